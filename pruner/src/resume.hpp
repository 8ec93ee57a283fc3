#pragma once
// Internal: what a killed prune leaves for the next run with the same
// arguments — the baseline (weights and figures), the profile when it is
// cached in the output folder (and its journal, so profiling resumes point
// by point), and every oracle's short fine-tunes — in a hidden sibling of
// the output folder, ".NAME.resume". Rank 0 writes each piece atomically
// as it is done; a run with other arguments ignores and replaces it; a
// committed run removes it. At most the step in flight is lost.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "thor/pruner/pruner.hpp"

namespace thor::pruner::detail {

class ResumeState {
 public:
  /// Reads the state on rank 0 and shares it with every rank; a state made
  /// with other arguments (recipe text, output, data, meter, prune options)
  /// is discarded.
  ResumeState(const Recipe& recipe, const PruneOptions& options);

  bool has_baseline() const { return state_.contains("baseline"); }
  std::string baseline_checkpoint() const { return file("baseline.ckpt"); }
  /// The figures of the resumed baseline (its training is not redone).
  void restore_baseline(BaselineResult& b) const;
  /// Rank 0: the trained baseline and its figures.
  void save_baseline(const Model& model, const BaselineResult& b);
  /// Where the profile is cached when the recipe's cache is the output folder.
  std::string profile_path() const { return file("profile.json"); }
  /// The short fine-tunes' accuracies of `round`, if they were done for these
  /// channel configurations.
  std::optional<std::vector<double>> round(const std::string& round,
                                           const std::vector<ChannelConfig>& channels) const;
  /// Rank 0: a round's accuracies.
  void save_round(const std::string& round, const std::vector<ChannelConfig>& channels,
                  const std::vector<double>& accuracies);
  /// Rank 0, after the output is committed: the state is no longer needed.
  void finish();

 private:
  std::string file(const std::string& name) const;
  void write();
  std::string dir_;
  std::string fingerprint_;
  nlohmann::json state_;
};

}  // namespace thor::pruner::detail
