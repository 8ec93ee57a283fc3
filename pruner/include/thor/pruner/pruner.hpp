#pragma once
/// \file
/// Energy-aware channel pruning (paper section 4.3): cut a trained network
/// down to an energy budget per training iteration while keeping accuracy,
/// with the Estimator as the cost oracle.
///
/// The loop (run_pruning):
///  1. train the baseline (or load the recipe's checkpoint), test accuracy;
///  2. reuse the cached DeviceProfile when it was made under the same settings
///     and covers the baseline's kinds and channel ranges, else profile;
///  3. baseline energy per iteration: estimated and measured (protocol);
///  4. random channel pruning (Li et al., CVPR 2022): a PruningStrategy
///     proposes configurations, the oracle keeps those within the budget
///     (preferring the band just under it), and a short fine-tune from the
///     baseline's weights (top-L1 filters kept) ranks them, in parallel;
///  5. the winner (optionally verified by measuring it) is built for real
///     (weight surgery) and fine-tuned fully;
///  6. its energy is measured with the same protocol, its accuracy tested;
///  7. everything goes to an output folder written as a whole (temp folder,
///     then rename): report.json, pruned.yaml, model.pt, baseline.ckpt,
///     profile.json, PNG plots.
/// With `compare: [flops]` steps 4-6 run again with the FLOPs baseline as
/// the oracle on the same candidate pool, and the report shows both.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "thor/dry_run.hpp"
#include "thor/pruner/options.hpp"
#include "thor/pruner/strategy.hpp"
#include "thor/recipe.hpp"
#include "thor/train.hpp"

namespace thor::pruner {

/// One configuration the loop looked at closely (fine-tuned briefly).
struct CandidateRecord {
  ChannelConfig channels;
  double oracle_joules = 0.0;     ///< per iteration, by the run's oracle
  double estimated_joules = 0.0;  ///< per iteration, by the GP estimator
  double flops_joules = 0.0;      ///< per iteration, by the FLOPs baseline
  bool in_band = false;           ///< oracle energy in [(1 - band)·budget, budget]
  double short_accuracy = -1.0;   ///< validation accuracy after the short fine-tune
  double measured_joules = -1.0;  ///< per iteration, when verified by measuring (else -1)
  double measured_ratio = -1.0;   ///< over the baseline measured in the same rounds (else -1)
};

/// The outcome of the loop for one oracle.
struct PrunedModelResult {
  std::string oracle;                   ///< "estimator" or "flops"
  double oracle_baseline_joules = 0.0;  ///< the oracle's figure for the baseline
  double oracle_budget_joules = 0.0;    ///< the budget the oracle filtered with
  int64_t sampled = 0, unique = 0, feasible = 0, in_band = 0;
  std::vector<CandidateRecord> candidates;  ///< ranked, best first
  size_t winner = 0;                        ///< index into candidates
  int64_t verified = 0;                     ///< candidates measured before accepting one
  /// Measured / oracle energy at the calibration probes (median), by which
  /// selection scaled the oracle's figures; 1 without calibration.
  double calibration = 1.0;
  std::vector<ChannelConfig> calibration_probes;  ///< the configurations measured
  std::vector<double> calibration_factors;        ///< measured / oracle of each probe
  ChannelConfig channels;                         ///< of the winner
  std::string architecture;                       ///< Architecture::summary() of the pruned model
  std::string files_yaml, files_model;            ///< names inside the output folder
  double accuracy = 0.0;                          ///< test accuracy after the final fine-tune
  double torchscript_accuracy = -1.0;             ///< of the exported model.pt, same samples
  double estimated_joules_per_iteration = 0.0;
  double flops_joules_per_iteration = 0.0;
  double measured_joules_per_iteration = 0.0;
  double measured_cv = 0.0;
  std::vector<double> measured_rounds;  ///< J/iter of every round of the final measurement
  double measured_energy_ratio = 0.0;   ///< pruned / baseline, both measured
  double estimated_energy_ratio = 0.0;  ///< pruned / baseline, both estimated (GP)
  /// Median over the final rounds of pruned / baseline measured in the same
  /// round: a paired figure, shown beside the ratio of medians.
  double paired_energy_ratio = 0.0;
  bool within_budget = false;  ///< measured <= budget_joules_per_iteration
  double train_flops = 0.0;
  int64_t params = 0;
  std::vector<CurvePoint> curve;  ///< during the final fine-tune
  double finetune_seconds = 0.0;
  nlohmann::json to_json() const;
};

struct BaselineResult {
  std::string architecture;  ///< Architecture::summary()
  bool from_checkpoint = false;
  double accuracy = 0.0;
  double estimated_joules_per_iteration = 0.0;
  double estimated_std = 0.0;
  double flops_joules_per_iteration = 0.0;
  double measured_joules_per_iteration = 0.0;
  double measured_cv = 0.0;
  std::vector<double> measured_rounds;  ///< J/iter of every round of the final measurement
  /// The baseline's training run metered whole, evaluation included (J);
  /// 0 when the baseline came from a checkpoint.
  double real_run_joules = 0.0;
  /// Of which the curve points' evaluations (one evaluation metered on its
  /// own × their number), J.
  double real_run_evaluation_joules = 0.0;
  /// The training steps alone: (real_run_joules − evaluation) / iterations,
  /// the figure the estimate and the protocol predict.
  double real_run_joules_per_iteration = 0.0;
  double train_flops = 0.0;
  int64_t params = 0;
  ChannelConfig channels;           ///< one count per channel group
  std::vector<std::string> groups;  ///< what each group holds ("conv@0 + residual@3,4,5")
  std::vector<CurvePoint> curve;    ///< during training (empty when loaded)
  double train_seconds = 0.0;
};

enum class PruneStatus {
  ok,           ///< the estimator-guided model's measured energy is within the budget
  over_budget,  ///< it is not (or no sampled configuration was feasible)
};
std::string to_string(PruneStatus status);

struct PruneResult {
  PruneStatus status = PruneStatus::ok;
  std::string message;
  std::string recipe;
  std::string output;      ///< the output folder written
  std::string meter;       ///< meter description
  std::string meter_kind;  ///< measured, modelled or simulated
  std::string strategy;
  std::string budget;                        ///< PruneBudget::describe
  double budget_joules_per_iteration = 0.0;  ///< against the measured baseline
  int64_t train_iterations = 0;
  BaselineResult baseline;
  PrunedModelResult pruned;                ///< the estimator-guided result
  std::vector<PrunedModelResult> compare;  ///< one per compared oracle
  bool profile_reused = false;
  std::string profile_path;
  double profile_seconds = 0.0;
  double total_seconds = 0.0;
  std::vector<std::string> plots;  ///< PNG names inside the output folder
  std::vector<std::string> warnings;

  bool ok() const { return status == PruneStatus::ok; }
  /// report.json's content.
  nlohmann::json to_json() const;
  /// e.g. "pruned to 48.7% of the baseline's measured energy (budget 50%), accuracy 86.1%
  /// vs 86.4%".
  std::string one_line() const;
  /// The terminal summary; every figure in it is in to_json().
  std::string full_report() const;
};

/// Runs the whole job for `recipe` (its output, data root and meter already
/// overridden by any flags). Throws InputError for bad input (before any
/// output exists); on any failure no output folder is left behind.
PruneResult run_pruning(const Recipe& recipe, const PruneOptions& options);

/// `prune --dry-run`: checks everything run_pruning would (recipe, data,
/// model, meter, profile cache, resume state), times a few iterations of
/// the baseline with the recipe's meter and forecasts each step's wall time
/// and the job's own energy. Writes nothing. Throws InputError as
/// run_pruning would for bad input.
DryRunPlan dry_run_pruning(const Recipe& recipe, const PruneOptions& options);

}  // namespace thor::pruner
