#pragma once
/// \file
/// The cost oracle: decides from the Estimator alone whether a point of the
/// space trains within the energy budget. It compiles one EstimatePlan per
/// structure up front, so a query is a handful of GP means (no parsing, no
/// allocation) and millions of candidates can be filtered per second.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "thor/cost_oracle.hpp"
#include "thor/estimator.hpp"
#include "thor/search/space.hpp"

namespace thor::search {

/// The budget: joules for the full run, confidence and iterations (one
/// rule for prune and search, in thor/cost_oracle.hpp).
using OracleOptions = thor::BudgetOptions;
using thor::Verdict;

/// What scanning the space found (see Oracle::scan).
struct SpaceScan {
  double points = 0;           ///< points of the space
  uint64_t examined = 0;       ///< points estimated
  uint64_t feasible = 0;       ///< of those, within the budget
  bool exhaustive = false;     ///< every point examined (else a uniform sample)
  Genome cheapest, costliest;  ///< lowest and highest estimated energy seen
  double cheapest_joules = 0.0, costliest_joules = 0.0;
  double feasible_share() const {
    return examined ? static_cast<double>(feasible) / static_cast<double>(examined) : 0.0;
  }
};

class Oracle {
 public:
  /// Compiles a plan per structure of `space` with the registered cost
  /// oracle `cost` ("estimator" or "flops", thor::cost_oracles()). Throws
  /// InputError naming the missing LayerKind when the estimator's profile
  /// does not cover the space.
  Oracle(const Estimator& estimator, const SearchSpace& space, OracleOptions options,
         const std::string& cost = "estimator");

  const OracleOptions& options() const { return rule_.options(); }
  const SearchSpace& space() const { return space_; }

  /// Estimated energy of the full run, its std and the verdict.
  Verdict check(const Genome& g) const;
  /// The verdict alone; with confidence 0 only GP means are evaluated.
  bool feasible(const Genome& g) const;
  /// Joules of the full run (mean only).
  double joules(const Genome& g) const;
  /// Feasibility of many genomes on `threads` cores (0: all) with oneTBB.
  std::vector<uint8_t> feasible_batch(const std::vector<Genome>& genomes, int threads) const;

  /// Examines every point when the space has at most `max_points`, else
  /// `max_points` uniform samples drawn with `seed`.
  SpaceScan scan(uint64_t max_points, uint64_t seed, int threads) const;

 private:
  // Width vector of g in plan order (SearchSpace::fill_widths: a CNN's conv
  // channels then linear widths; a block family's widths).
  size_t fill_channels(const Genome& g, int64_t* out) const;

  SearchSpace space_;
  BudgetRule rule_;
  std::unique_ptr<CostOracle> cost_;
  std::vector<std::unique_ptr<CostPlan>> plans_;  // by structure index
};

/// A random feasible point (up to `tries` draws), or nothing.
std::optional<Genome> random_feasible(const Oracle& oracle, Rng& rng, int tries = 1000);
/// A feasible mutation of `parent` (up to `tries` mutations, each applied to
/// the parent, with a second mutation stacked every other try), or nothing.
std::optional<Genome> mutate_feasible(const Oracle& oracle, const Genome& parent, Rng& rng,
                                      int tries = 200);

}  // namespace thor::search
