#pragma once
/// \file
/// DeviceProfile: what profiling a device produced, as a versioned JSON file.
/// Per LayerKind: its key, role, channel range, every raw measurement, and
/// the fitted LayerModel (work model + residual GP); plus the device, meter,
/// protocol and training feed it was made under, the reference workload (for
/// drift), whole-network anchors (for additivity) and the FLOPs baseline
/// calibrated on the same measurements.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "thor/gp/gp.hpp"
#include "thor/layer_kind.hpp"
#include "thor/layer_model.hpp"
#include "thor/meter.hpp"
#include "thor/protocol.hpp"

namespace thor {

/// One profiled variant network and the layer energy derived from it.
struct RawMeasurement {
  std::vector<double> features;  ///< channel features of the profiled kind
  std::string variant;           ///< the variant network, Architecture::summary()
  double measured = 0.0;  ///< joules per iteration of the whole variant (median, drift-corrected)
  double derived = 0.0;   ///< measured minus the other blocks' predictions (eq. 1, 2)
  /// Variance of `derived`: the median's variance from the repeats' spread
  /// plus the predictive variances of the companion blocks subtracted.
  double variance = 0.0;
  double drift = 1.0;    ///< host-speed factor divided out of the raw reading
  std::string feed;      ///< what the variant was fed (data set or stand-in)
  double cv = 0.0;       ///< coefficient of variation of the repeats
  double seconds = 0.0;  ///< seconds per iteration (median)
  double flops = 0.0;    ///< training FLOPs per iteration of the variant
};

/// The energy model of one LayerKind.
struct KindModel {
  std::string key;
  BlockRole role = BlockRole::output;
  std::vector<int64_t> lower;  ///< channel range profiled, per feature
  std::vector<int64_t> upper;
  std::vector<RawMeasurement> points;
  LayerModel model;         ///< fitted on (features, derived, variance)
  std::string stop_reason;  ///< why guided profiling stopped
  double profile_seconds = 0.0;

  /// Predicted joules per iteration and its variance.
  gp::Prediction predict(const std::vector<double>& features) const;
  /// Refits the model from the points.
  void refit(const LayerModelOptions& options = {});
};

/// A whole network of the profiled family measured during profiling, to
/// check additivity (the paper's eq. 4) where the estimator will be used.
struct Anchor {
  std::string architecture;  ///< Architecture::summary()
  std::string structure;     ///< structure_key() of the architecture
  double measured = 0.0;     ///< joules per iteration (drift-corrected)
  double variance = 0.0;     ///< of `measured`
  double estimated = 0.0;    ///< sum of the block models, before correction
  double estimated_variance = 0.0;
};

/// What the anchors say about the sum of blocks: estimates are multiplied by
/// `scale`, and carry an extra relative standard deviation `relative_std`.
struct AdditivityCorrection {
  double scale = 1.0;
  double relative_std = 0.0;
  int anchors = 0;
};

/// The reference workload (protocol.hpp) measured while profiling.
struct ReferenceRecord {
  double joules_per_iteration =
      0.0;  ///< median over the profiling run (the profile's "host state")
  double end_joules_per_iteration = 0.0;  ///< the last one, at the end
  double cv = 0.0;                        ///< median cv of its measurements' repeats
  bool measured() const { return joules_per_iteration > 0.0; }
};

/// joules = a · FLOPs + b, least squares over the same variant measurements.
struct FlopsBaseline {
  double a = 0.0;
  double b = 0.0;
  bool fitted = false;
  double predict(double flops) const { return a * flops + b; }
};

/// Device and settings a profile was made under.
struct ProfileSettings {
  std::string cpu_model;
  int cores = 0;
  std::string gpu;
  std::string meter;
  EnergyKind kind = EnergyKind::modelled;
  std::string torch_version;
  std::string device = "cpu";
  int threads = 1;
  bool flush_denormal = true;
  int64_t iterations = 0;  ///< measured iterations per repeat
  int repeats = 0;
  int64_t warmup = 0;
  double min_window_seconds = 0.0;
  double min_warmup_seconds = 0.0;
  double static_watts = 0.0;  ///< cpu-model constants (0 for real meters)
  double core_watts = 0.0;
  /// What variants whose input is the data were fed: the recipe's data set,
  /// or the stand-in (train.hpp kStandIn) when the profile had no data.
  std::string data;
  std::string optimizer = "sgd";  ///< the training step's optimizer and settings
  double lr = 0.05;
  double momentum = 0.9;
  double weight_decay = 0.0;

  /// Human-readable differences that matter for estimates ("threads: 1 vs 2").
  std::vector<std::string> differences(const ProfileSettings& other) const;
  /// The protocol these settings were made under (iterations, window,
  /// warm-up, repeats, threads, denormals, device): the inverse of current().
  MeasureOptions protocol() const;
  /// The settings of this machine for a meter, protocol and training feed.
  static ProfileSettings current(const EnergyMeter& meter, const MeterOptions& meter_options,
                                 const MeasureOptions& measure, const TrainFeed& feed,
                                 const std::vector<int64_t>& data_shape = {});
};

/// The host as a profile records it. THOR_CPU_MODEL overrides the CPU
/// model read from /proc/cpuinfo (containers that hide it; tests).
struct HostDescription {
  std::string cpu_model;
  int cores = 0;
  std::string torch_version;
};
HostDescription describe_host();
/// "AMD EPYC 7B13, 2 cores, LibTorch 1.13.1" (run logs, reports).
std::string to_string(const HostDescription& host);
/// What differs between the host a profile was made on and `host`
/// ("cpu_model: A (profile) vs B (host)"); empty when they match.
std::vector<std::string> host_differences(const ProfileSettings& profile,
                                          const HostDescription& host);

struct DeviceProfile {
  /// 2: work-model layer models, per-point variances, reference workload,
  /// anchors, training feed. Version-1 profiles are refused (profile again).
  static constexpr int kSchemaVersion = 2;
  ProfileSettings settings;
  std::map<std::string, KindModel> kinds;
  FlopsBaseline flops;
  ReferenceRecord reference;
  std::vector<Anchor> anchors;
  AdditivityCorrection additivity;  ///< over all anchors
  /// Per structure (structure_key()) with >= 2 anchors: a family's own
  /// correction, used for its members instead of the overall one.
  std::map<std::string, AdditivityCorrection> structure_additivity;
  double profile_seconds = 0.0;

  /// The correction for an architecture of this structure.
  const AdditivityCorrection& additivity_for(const std::string& structure) const;

  bool has(const std::string& key) const { return kinds.count(key) > 0; }
  nlohmann::json to_json() const;
  /// Throws InputError naming `where` and the key that is missing or wrong.
  static DeviceProfile from_json(const nlohmann::json& j, const std::string& where);
  /// Writes atomically.
  void save(const std::string& path) const;
  /// Throws InputError naming the file for a missing, corrupt or truncated file.
  static DeviceProfile load(const std::string& path);
};

/// The sequence of an architecture's layer kinds (its blocks' keys): networks
/// that differ only in channel counts share it.
std::string structure_key(const Architecture& arch);
/// The same from an architecture's blocks (split_blocks()), when at hand.
std::string structure_key(const std::vector<LayerBlock>& blocks);

/// The additivity correction from anchors: their measured / estimated
/// ratio, shrunk towards 1 by what their own noise explains, and the spread
/// the block models do not explain. Fewer than 2 anchors: scale 1.
AdditivityCorrection fit_additivity(const std::vector<Anchor>& anchors);

/// Fits the FLOPs baseline on every measurement in the profile.
FlopsBaseline fit_flops_baseline(const DeviceProfile& profile);

}  // namespace thor
