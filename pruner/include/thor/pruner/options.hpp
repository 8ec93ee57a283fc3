#pragma once
/// \file
/// The settings of one pruning job: the recipe's `prune:` section (every key
/// documented in recipes/README.md) as a validated struct.
#include <cstdint>
#include <string>
#include <vector>

#include "thor/recipe.hpp"

namespace thor::pruner {

/// How much energy the pruned network may use per training iteration.
struct PruneBudget {
  enum class Kind { fraction, joules_per_iteration, joules };
  Kind kind = Kind::fraction;
  /// fraction: of the baseline, in (0, 1]; joules_per_iteration: J;
  /// joules: J for the whole training run (train.iterations iterations).
  double value = 0.5;

  /// The budget in joules per iteration against a baseline costing
  /// `baseline_jpi` per iteration, for a run of `iterations` iterations.
  double per_iteration(double baseline_jpi, int64_t iterations) const;
  /// "50% of the baseline", "0.03 J/iteration", "120 J over 2000 iterations".
  std::string describe(int64_t iterations) const;
  /// Throws FieldError naming the form ("fraction", "joules"), the value and the rule.
  void validate() const;
};

struct PruneOptions {
  /// Registered PruningStrategy proposing configurations ("random", "uniform").
  std::string strategy = "random";
  PruneBudget budget;
  /// Configurations the strategy proposes (duplicates are dropped after).
  int64_t samples = 4000;
  /// Feasible configurations ranked by a short fine-tune (Li et al.'s pool).
  int64_t candidates = 8;
  /// Smallest keep ratio of any layer, in (0, 1].
  double min_keep = 0.2;
  /// Candidates whose oracle energy lies in [(1 - band)·budget, budget] are
  /// preferred: pruning far below the budget wastes accuracy.
  double band = 0.08;
  /// Iterations of the ranking fine-tune of each candidate.
  int64_t short_finetune = 150;
  /// Iterations of the winner's full fine-tune.
  int64_t final_finetune = 1000;
  /// Learning rate of both fine-tunes; 0: the recipe's train.lr.
  double lr = 0.0;
  /// Training samples held out (taken from the end of the training set) to
  /// rank candidates, so that the test set is only used for final figures.
  int64_t validation = 1000;
  /// Measure up to this many top-ranked candidates with the protocol and take
  /// the first whose measured energy is in the band under the budget (0: trust
  /// the oracle). Only the primary (estimator) run verifies; compared oracles
  /// are taken as they are, since the comparison is about the oracles.
  int64_t verify = 3;
  /// Verification accepts a measured energy in [(1 - band + margin)·budget,
  /// (1 - margin)·budget]: the margin absorbs the noise between the
  /// verification and the final measurement.
  double verify_margin = 0.02;
  /// Before selecting, measure this many pool configurations the oracle puts
  /// at the middle of the band (in rounds with the baseline) and aim the
  /// selection at the measured budget: the oracle's figures are scaled by the
  /// median measured/oracle ratio there. 0: select on the oracle alone. Only
  /// runs that verify calibrate.
  int64_t calibrate = 0;
  /// Concurrency of the parallel fine-tunes (a tbb::task_arena); 0: all cores.
  int concurrency = 0;
  /// Seed of the strategy's draws and of the per-candidate fine-tunes.
  uint64_t seed = 1;
  /// Oracles run side by side with the estimator on the same pool ("flops").
  std::vector<std::string> compare;
  /// Baseline weights (Model::save format) to load instead of training.
  std::string checkpoint;
  /// Test samples used for the final accuracies (< 0: all of the test set).
  int64_t test_samples = -1;
  /// Write PNG plots with gnuplot (skipped with a warning when absent).
  bool plots = true;
  /// Progress lines on stderr.
  bool progress = true;

  /// Every rule of the `prune:` keys (ranges in recipes/README.md), the
  /// strategy checked against the registry. Throws FieldError naming the
  /// field ("samples", "budget.fraction", "compare[1]"), its value and the rule.
  void validate() const;
};

/// Parses `recipe.prune` (absent: all defaults) and runs validate(). Errors
/// are InputErrors "file:line: key 'prune.x': ..."; the strategy name is
/// checked against the registries (pruning_strategies(), cost_oracles()).
PruneOptions parse_prune_options(const Recipe& recipe);

}  // namespace thor::pruner
