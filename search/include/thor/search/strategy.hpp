#pragma once
/// \file
/// Search strategies: a small ask/tell interface and a name→factory
/// registry. The search loop asks a strategy for candidates (propose), has
/// the oracle filter them, trains the feasible ones, and tells the strategy
/// every result (observe). Writing a strategy of your own: docs/extending.md.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "thor/registry.hpp"
#include "thor/search/oracle.hpp"
#include "thor/search/space.hpp"

namespace thor::search {

/// One proposed point and what became of it.
struct Candidate {
  uint64_t id = 0;         ///< proposal order within the search, from 0
  int64_t generation = 0;  ///< the propose() round it came from, from 0
  Genome genome;
  Verdict verdict;         ///< the oracle's estimate and feasibility
  bool trained = false;    ///< a proxy training run produced `accuracy`
  bool reused = false;     ///< same genome as an earlier candidate: its accuracy, not retrained
  double accuracy = -1.0;  ///< proxy top-1 accuracy in [0, 1]; -1 when not trained
  double seconds = 0.0;    ///< wall time of its training run
  uint64_t seed = 0;       ///< seed of its weights and shuffling
  /// Feasible and evaluated (trained or reused).
  bool scored() const { return verdict.feasible && accuracy >= 0.0; }
};

/// Settings every strategy may read; the recipe's `search:` keys.
struct StrategyOptions {
  int64_t population = 100;  ///< regularized-evolution, nsga2: population size
  int64_t sample = 25;       ///< regularized-evolution: tournament size S (≤ population)
  double crossover = 0.5;    ///< nsga2: probability a child is a crossover of two parents
  uint64_t seed = 1;         ///< the search seed; a strategy seeds its own Rng from it
  /// Throws InputError naming the field, its value and the rule.
  void validate() const;
};

/// What a strategy is built with. The referenced objects outlive it.
struct StrategyContext {
  const SearchSpace* space = nullptr;
  /// Strategies may ask it directly to propose only feasible points
  /// (random_feasible, mutate_feasible); the search filters again anyway.
  const Oracle* oracle = nullptr;
  StrategyOptions options;
};

/// A search strategy. Implementations need not be thread-safe: the search
/// calls propose and observe from one thread, alternately.
class Strategy {
 public:
  Strategy() = default;
  virtual ~Strategy() = default;
  Strategy(const Strategy&) = delete;
  Strategy& operator=(const Strategy&) = delete;

  /// The registry name.
  virtual std::string name() const = 0;

  /// Returns up to `n` points of the space to evaluate next (n ≥ 1). Fewer
  /// than n is fine; an empty list ends the search (the strategy has nothing
  /// left to try). Points outside the space are an error. Points the oracle
  /// finds infeasible are not trained: they come back through observe()
  /// with verdict.feasible false and accuracy -1, and do not count toward
  /// the number of trained candidates. Must be deterministic given the seed
  /// in StrategyContext and the results observed so far (checkpoints replay
  /// a search by calling propose/observe again).
  virtual std::vector<Genome> propose(size_t n) = 0;

  /// Receives the results of the last propose(), one Candidate per proposed
  /// point in the same order, feasible or not.
  virtual void observe(const std::vector<Candidate>& results) = 0;
};

using StrategyFactory = std::function<std::unique_ptr<Strategy>(const StrategyContext&)>;

/// The search strategies by name: random, regularized-evolution and nsga2
/// are built in; add your own with strategies().add(name, factory).
Registry<StrategyFactory>& strategies();
/// strategies().add(name, factory): throws when the name is taken.
inline void register_strategy(const std::string& name, StrategyFactory factory) {
  strategies().add(name, std::move(factory));
}
/// Builds a strategy; an unknown name is an InputError listing the known ones.
std::unique_ptr<Strategy> make_strategy(const std::string& name, const StrategyContext& context);

/// Indices of the non-dominated candidates among the scored ones
/// (maximise accuracy, minimise estimated joules), sorted by joules.
std::vector<size_t> pareto_front(const std::vector<Candidate>& candidates);

}  // namespace thor::search
