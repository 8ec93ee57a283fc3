#pragma once
// Internal: the parts of the pruning loop (run_pruning in pruner.cpp calls
// them in order). Candidate generation and the oracle runs are in
// candidates.cpp, the baseline in baseline.cpp; the pure selection rules
// are public (thor/pruner/selection.hpp).
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "resume.hpp"
#include "thor/dataset.hpp"
#include "thor/estimator.hpp"
#include "thor/io.hpp"
#include "thor/meter.hpp"
#include "thor/pruner/groups.hpp"
#include "thor/pruner/pruner.hpp"
#include "thor/train.hpp"

namespace thor::pruner::detail {

/// The recipe's data cut into the fine-tuning set, a held-out validation
/// set (ranks candidates) and the test set (reports accuracy).
struct DataSplit {
  Dataset train, validation, test;
};
DataSplit load_split(const Recipe& recipe, const PruneOptions& options);

/// Every rule of the recipe a pruning job needs, before anything slow
/// (options, train, measure, device, at least one channel group); returns
/// the model's channel groups.
ChannelGroups check_recipe(const Recipe& recipe, const PruneOptions& options);

/// Progress lines on stderr when options.progress is set.
using Say = std::function<void(const std::string&)>;

/// Fills b.channels and b.groups from the model's channel groups.
void set_groups(const Architecture& model, BaselineResult& b);

/// Trains the baseline (metering the whole run) or loads the checkpoint,
/// filling `b` with its accuracy, curve, real-run energy and shape.
Model prepare_baseline(const Recipe& recipe, const PruneOptions& options, const DataSplit& data,
                       EnergyMeter& meter, BaselineResult& b, const Say& say);

/// The baseline on every rank: rank 0 prepares it — or takes it from the
/// resume state of a killed run — and saves it as `checkpoint`; the others
/// get its weights from rank 0; every rank fills b's shape fields.
Model share_baseline(const Recipe& recipe, const PruneOptions& options, const DataSplit& data,
                     EnergyMeter* meter, BaselineResult& b, const Say& say,
                     const std::string& checkpoint, ResumeState& resume);

/// Everything one oracle run needs, shared by the runs.
struct Context {
  const Recipe& recipe;
  const PruneOptions& options;
  const Model& baseline;
  const ChannelGroups& groups;      ///< what is pruned together (configurations count groups)
  ChannelConfig baseline_channels;  ///< the groups' baseline counts
  const DataSplit& data;
  EnergyMeter* meter;  ///< rank 0 only (others: null)
  const Estimator& estimator;
  const StagingFolder* staging;  ///< rank 0 only (others: null)
  double baseline_estimated = 0.0;
  std::vector<std::string>& warnings;
  Say say;
  ResumeState* resume;  ///< short fine-tunes done before a kill, and where to record new ones
};

/// The candidate pool every oracle draws from: the strategy's proposals,
/// clamped and deduplicated, with every oracle's figure (J/iter).
struct Pool {
  std::vector<ChannelConfig> configs;
  std::map<std::string, std::vector<double>> figures;  ///< by oracle name
  std::map<std::string, double> baseline;              ///< each oracle's figure for the baseline
  int64_t sampled = 0;
};
Pool make_pool(const Context& ctx, const std::vector<std::string>& oracles);

/// Steps 4-5 of the loop for one oracle: select, short fine-tunes (across
/// the ranks), then on rank 0: verify (when `verify`), surgery, the final
/// fine-tune and the export.
PrunedModelResult run_oracle(const Context& ctx, const Pool& pool, const std::string& oracle,
                             bool verify, int run_index);

}  // namespace thor::pruner::detail
