#pragma once
/// \file
/// DeviceProfile: what profiling a device produced, as a versioned JSON file.
/// Per LayerKind: its key, role, channel range, every raw measurement, and
/// the fitted Gaussian Process; plus the device, meter and settings it was
/// made under, and the FLOPs baseline calibrated on the same measurements.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "thor/gp/gp.hpp"
#include "thor/layer_kind.hpp"
#include "thor/meter.hpp"

namespace thor {

/// One profiled variant network and the layer energy derived from it.
struct RawMeasurement {
  std::vector<double> features;  ///< channel features of the profiled kind
  std::string variant;           ///< the variant network, Architecture::summary()
  double measured = 0.0;         ///< joules per iteration of the whole variant (median)
  double derived = 0.0;          ///< measured minus the other blocks' predictions (eq. 1, 2)
  double cv = 0.0;               ///< coefficient of variation of the repeats
  double seconds = 0.0;          ///< seconds per iteration (median)
  double flops = 0.0;            ///< training FLOPs per iteration of the variant
};

/// The energy model of one LayerKind.
struct KindModel {
  std::string key;
  BlockRole role = BlockRole::output;
  std::vector<int64_t> lower;   ///< channel range profiled, per feature
  std::vector<int64_t> upper;
  std::vector<RawMeasurement> points;
  std::optional<gp::GaussianProcess> gp;  ///< fitted on (features, derived)
  std::string stop_reason;                ///< why guided profiling stopped
  double profile_seconds = 0.0;

  /// Predicted joules per iteration and its standard deviation.
  gp::Prediction predict(const std::vector<double>& features) const;
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
  double static_watts = 0.0;  ///< cpu-model constants (0 for real meters)
  double core_watts = 0.0;

  /// Human-readable differences that matter for estimates ("threads: 1 vs 2").
  std::vector<std::string> differences(const ProfileSettings& other) const;
  /// The settings of this machine for a meter and protocol.
  static ProfileSettings current(const EnergyMeter& meter, const MeterOptions& meter_options, int threads,
                                 bool flush_denormal, int64_t iterations, int repeats, int64_t warmup,
                                 const std::string& device);
};

struct DeviceProfile {
  static constexpr int kSchemaVersion = 1;
  ProfileSettings settings;
  std::map<std::string, KindModel> kinds;
  FlopsBaseline flops;
  double profile_seconds = 0.0;

  bool has(const std::string& key) const { return kinds.count(key) > 0; }
  nlohmann::json to_json() const;
  /// Throws InputError naming `where` and the key that is missing or wrong.
  static DeviceProfile from_json(const nlohmann::json& j, const std::string& where);
  /// Writes atomically.
  void save(const std::string& path) const;
  /// Throws InputError naming the file for a missing, corrupt or truncated file.
  static DeviceProfile load(const std::string& path);
};

/// Fits the FLOPs baseline on every measurement in the profile.
FlopsBaseline fit_flops_baseline(const DeviceProfile& profile);

}  // namespace thor
