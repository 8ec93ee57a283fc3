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
  /// Builds the variant network for the given features.
  std::function<Architecture(const std::vector<int64_t>&)> variant;
  /// Index of the profiled block inside the variant's blocks.
  size_t target_block = 0;
};

/// The kinds an architecture set needs, in profiling order (output kinds,
/// then input kinds, then hidden kinds). Channel ranges span `channel_lower`
/// up to the largest count seen in `architectures`.
std::vector<KindPlan> plan_profiling(const std::vector<Architecture>& architectures, int64_t channel_lower = 1);

struct ProfilerOptions {
  int max_points = 10;           ///< per 1-D kind (stop rule 1); 2-D kinds get 1.5x
  int min_points = 5;            ///< the std rule may stop a kind only from here; 2-D kinds get 1.5x
  double std_fraction = 0.05;    ///< stop when max predictive std < this x mean measured value
  double time_budget_s = 0.0;    ///< 0: none; past it, kinds keep only their starting points
  int64_t channel_lower = 1;     ///< lower end of every channel range
  MeasureOptions measure;        ///< the protocol for every variant
  std::string journal_path;      ///< append-only log of measurements; resume source
  bool progress = true;          ///< progress on stderr (a bar on a terminal, lines otherwise)
  /// GP settings for every kind. The mean is linear: energy grows roughly
  /// with channel counts, and a linear prior keeps the ends of a range honest
  /// (on this machine it cut the MLP family's MAPE from 3.5% to 2.1%).
  gp::Options gp = default_gp_options();
  static gp::Options default_gp_options() {
    gp::Options o;
    o.mean = "linear";
    return o;
  }
  /// true: guided by the GP's variance (the paper); false: an evenly spaced
  /// grid of the same number of points (for comparison).
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

/// The recipe's `profile:` section as ProfilerOptions.
ProfilerOptions profiler_options(const Recipe& recipe);

/// Runs guided profiling for `architectures` with `meter` and returns the
/// profile. Measurements already in the journal (same variant) are reused
/// instead of measured again, so an interrupted run resumes.
ProfileResult run_profiler(const std::vector<Architecture>& architectures, EnergyMeter& meter,
                           const MeterOptions& meter_options, const ProfilerOptions& options);

/// Refits every kind's GP from its points (e.g. after editing a profile).
void refit_kind(KindModel& kind, const gp::Options& options);

}  // namespace thor
