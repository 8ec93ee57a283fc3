#pragma once
/// \file
/// The budget oracle that prune and search share: "how many joules per
/// training iteration would this network cost, and does its training fit
/// the budget at this confidence?". A CostOracle is a registered way to put
/// a price on a network — the GP estimator (the paper's method) and the
/// calibrated FLOPs baseline are built in; a researcher can add their own
/// (docs/extending.md). A BudgetRule turns a price into a verdict.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "thor/architecture.hpp"
#include "thor/estimator.hpp"
#include "thor/registry.hpp"

namespace thor {

/// Joules per training iteration with its (systematic) variance.
struct Cost {
  double mean = 0.0;
  double variance = 0.0;
};

/// One network structure compiled for channel-only queries.
class CostPlan {
 public:
  virtual ~CostPlan() = default;
  /// Channel counts a query takes: one per conv/linear layer except the last
  /// (its outputs are the classes), in layer order.
  virtual size_t num_channels() const = 0;
  /// Cost of the structure with these counts. Contract: thread-safe, cheap.
  virtual Cost predict(const int64_t* channels) const = 0;
  /// predict(channels).mean; oracles override it when the mean is cheaper.
  virtual double mean(const int64_t* channels) const { return predict(channels).mean; }
  /// Convenience for a vector of num_channels() counts (checked).
  Cost predict(const std::vector<int64_t>& channels) const;
};

class CostOracle {
 public:
  virtual ~CostOracle() = default;
  /// The registered name ("estimator", "flops").
  virtual std::string name() const = 0;
  /// Compiles `skeleton`'s structure; its own channel counts are only an example.
  /// Throws InputError when the oracle cannot price it (e.g. a missing kind).
  virtual std::unique_ptr<CostPlan> plan(const Architecture& skeleton) const = 0;
};

/// Builds an oracle over a fitted estimator, which must outlive it.
using CostOracleFactory = std::function<std::unique_ptr<CostOracle>(const Estimator&)>;
/// "estimator" (GP estimate, with its std) and "flops" (a·FLOPs + b fitted on
/// the same profile; no std) are built in.
Registry<CostOracleFactory>& cost_oracles();
/// cost_oracles().create(name, estimator); unknown names are InputErrors.
std::unique_ptr<CostOracle> make_cost_oracle(const std::string& name, const Estimator& estimator);

/// A training budget and how sure an estimate must be to fit it.
struct BudgetOptions {
  /// Joules allowed for the whole training run; > 0 and finite.
  double budget_joules = 0.0;
  /// 0: feasible when the estimate ≤ budget. In (0, 1): feasible when
  /// P(E ≤ budget) ≥ confidence with E ~ Normal(estimate, std).
  double confidence = 0.0;
  /// Training iterations of the full run (the recipe's train.iterations).
  int64_t iterations = 1;
  /// Throws FieldError naming budget_joules, confidence or iterations.
  void validate() const;
};

/// The verdict on one network.
struct Verdict {
  double joules = 0.0;       ///< estimated energy of the full run
  double std = 0.0;          ///< its standard deviation
  double probability = 1.0;  ///< P(E ≤ budget) under Normal(joules, std)
  bool feasible = false;
};

/// Decides feasibility from a per-iteration cost, one rule for every caller.
class BudgetRule {
 public:
  explicit BudgetRule(BudgetOptions options);
  const BudgetOptions& options() const { return options_; }
  /// Full-run energy, std, probability and verdict. The per-iteration std is
  /// a systematic error, not independent noise per step, so it scales with
  /// the iteration count (not its square root).
  Verdict judge(const Cost& per_iteration) const;
  /// The verdict alone from the mean (valid when confidence is 0).
  bool fits_mean(double mean_per_iteration) const;
  /// Whether the verdict needs the variance (confidence > 0).
  bool needs_variance() const { return options_.confidence > 0.0; }

 private:
  BudgetOptions options_;
  double z_ = 0.0;  // normal quantile of the confidence
};

}  // namespace thor
