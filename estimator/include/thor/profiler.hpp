#pragma once
/// \file
/// Guided layer-wise profiling (paper sections 3.2-3.3). For every LayerKind
/// an architecture needs, the profiler trains small variant networks:
///   output kinds on 1-layer networks (the layer alone, on data of its input shape),
///   input kinds on 2-layer networks (+ an output layer; eq. 1 subtracts it),
///   hidden kinds on 3-layer networks (an input layer + it + an output layer;
///   eq. 2 subtracts both),
/// where the companion layers are themselves kinds profiled first (the
/// architecture's own input block when shapes allow, else a 1x1 conv or a
/// linear "adapter"). Each kind starts at the corners of its channel range,
/// then measures where its GP is least certain, until a stop rule holds.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "thor/architecture.hpp"
#include "thor/meter.hpp"
#include "thor/profile.hpp"
#include "thor/protocol.hpp"
#include "thor/recipe.hpp"

namespace thor {

/// A kind to profile and how to build its variant networks.
struct KindPlan {
  std::string key;
  BlockRole role = BlockRole::output;
  std::vector<int64_t> lower, upper;  ///< channel range per feature
  /// Each feature's values are multiples of this (an encoder's model
  /// dimension of its heads); lower and upper are such multiples.
  std::vector<int64_t> multiple;
  /// Builds the variant network for the given features.
  std::function<Architecture(const std::vector<int64_t>&)> variant;
  /// Index of the profiled block inside the variant's blocks.
  size_t target_block = 0;
};

/// The kinds an architecture set needs, in profiling order (output kinds,
/// then input kinds, then hidden kinds). Channel ranges span `channel_lower`
/// up to the largest count seen in `architectures`.
std::vector<KindPlan> plan_profiling(const std::vector<Architecture>& architectures,
                                     int64_t channel_lower = 1);

struct ProfilerOptions {
  int max_points = 12;  ///< per 1-D kind; 2-D kinds get 1.75x
  int min_points = 5;   ///< no kind stops before this; 2-D kinds get 2x
  /// Stop when, everywhere in the kind's channel box, the predicted std is
  /// below this fraction of the predicted energy ...
  double std_fraction = 0.03;
  /// ... and the model's leave-one-out error (relative, RMS) is below this.
  double loo_fraction = 0.04;
  double time_budget_s = 0.0;  ///< 0: none; past it, kinds keep the points they have
  int64_t channel_lower = 1;   ///< lower end of every channel range
  MeasureOptions measure;      ///< the protocol for every variant
  /// The training step: the recipe's data (variants whose input is the
  /// data's shape take it; others get the stand-in) and optimizer.
  TrainFeed feed;
  /// Whole networks measured after the kinds to check additivity, per given
  /// architecture: itself, then random members of its family (channels
  /// uniform in channel_lower..base), this many in all (with more than 4
  /// architectures, 4 × this many shared out, at least 1 each). 0: none.
  /// A family with >= 2 anchors gets its own correction
  /// (DeviceProfile::additivity_for); the others the overall one.
  int anchors = 4;
  uint64_t anchor_seed = 7;
  /// Re-measure the reference workload before each kind and divide the
  /// host's speed drift out of the kind's measurements.
  bool track_drift = true;
  std::string journal_path;  ///< append-only log of measurements; resume source
  bool progress = true;      ///< progress on stderr (a bar on a terminal, lines otherwise)
  LayerModelOptions model;   ///< how each kind's model is fitted
  /// true: guided by the model's relative uncertainty (the paper's guided
  /// profiling); false: an evenly spaced grid of max_points (for comparison).
  bool guided = true;
  void validate() const;
};

/// What a profiling run produced.
struct ProfileResult {
  DeviceProfile profile;
  int measured = 0;  ///< variant networks measured in this run
  int reused = 0;    ///< measurements taken from the journal (a resumed run)
  std::string message;
};

/// The recipe's `profile:` section and training settings as ProfilerOptions
/// (feed.data stays null: the caller loads the data and points to it).
ProfilerOptions profiler_options(const Recipe& recipe);

/// Runs guided profiling for `architectures` with `meter` and returns the
/// profile. Measurements already in the journal (same variant) are reused
/// instead of measured again, so an interrupted run resumes.
ProfileResult run_profiler(const std::vector<Architecture>& architectures, EnergyMeter& meter,
                           const MeterOptions& meter_options, const ProfilerOptions& options);

}  // namespace thor
