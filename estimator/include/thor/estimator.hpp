#pragma once
/// \file
/// The Estimator: joules per training iteration of any architecture built
/// from profiled LayerKinds, as the sum of its blocks' layer-model
/// predictions (paper eq. 4), times the profile's additivity correction
/// (from whole networks measured while profiling) and the host's drift
/// since profiling (from the reference workload, when re-measured).
/// The standard deviation is that of a *measurement* of the network under
/// the profile's protocol: the blocks' model variance, the additivity
/// spread, the drift's uncertainty and the measurement noise (see
/// docs/estimator.md, "Reading the std").
/// A block's mean is floored at 0 J: a model extrapolating below zero must
/// not make a network look cheaper than its other blocks.
/// It is the only thing pruning and search know about energy.
#include <memory>
#include <string>
#include <vector>

#include "thor/architecture.hpp"
#include "thor/profile.hpp"
#include "thor/run_log.hpp"

namespace thor {

struct EstimatorOptions {
  /// When a block's kind is missing from the profile: false → error naming
  /// the kind; true → a FLOPs-scaled figure from the profile's baseline,
  /// marked `fallback` in the result.
  bool flops_fallback = false;
  /// Concurrency of batch estimation (0: all cores).
  int threads = 0;
  /// Host speed now relative to when the profile was made (reference
  /// workload now / in the profile; 1: no correction), and its relative std.
  double drift = 1.0;
  double drift_relative_std = 0.0;
  void validate() const;
};

enum class EstimateStatus { ok, missing_kind };

struct LayerEstimate {
  size_t block = 0;
  std::string key;
  BlockRole role = BlockRole::output;
  std::vector<double> features;
  double joules = 0.0;  ///< per iteration
  double std = 0.0;
  double flops = 0.0;  ///< training FLOPs per iteration of the block
  bool fallback = false;
};

struct EstimateResult {
  EstimateStatus status = EstimateStatus::ok;
  std::string message;
  double joules_per_iteration = 0.0;
  double std = 0.0;           ///< of a measurement of this network (all terms)
  double model_std = 0.0;     ///< the block models' part of it
  double flops = 0.0;         ///< training FLOPs per iteration
  double flops_joules = 0.0;  ///< the FLOPs baseline's estimate
  std::vector<LayerEstimate> layers;
  /// What the profile trained on ("fashion-mnist/train, sgd lr 0.05 ..." or the stand-in).
  std::string basis;
  bool ok() const { return status == EstimateStatus::ok; }
  double total(int64_t iterations) const {
    return joules_per_iteration * static_cast<double>(iterations);
  }
  std::string one_line() const;
  std::string full_report() const;
};

/// Estimates for channel variants of one structure, compiled once: kind
/// lookups are done up front, so a query is only GP predictions. This is the
/// path pruning and search call millions of times. Thread-safe (const).
class EstimatePlan {
 public:
  /// Number of channel counts a query takes: one per parametric layer except
  /// the last (the class count is fixed).
  size_t num_channels() const { return n_params_ - 1; }
  /// Joules per iteration (mean only; the fastest path).
  double mean(const int64_t* channels) const;
  /// Mean and standard deviation.
  gp::Prediction predict(const int64_t* channels) const;

 private:
  friend class Estimator;
  struct Term {
    const KindModel* kind = nullptr;
    int c_in = -1;                       ///< index into channels, -1 for the data's channel count
    int c_out = -1;                      ///< index into channels, -1 for the fixed class count
    BlockRole role = BlockRole::output;  ///< which features it takes (block_features)
  };
  std::vector<Term> terms_;
  size_t n_params_ = 0;
  int64_t data_channels_ = 0;
  double factor_ = 1.0;         // additivity scale × drift
  double extra_rel_var_ = 0.0;  // relative variance of additivity, drift and noise
};

class Estimator {
 public:
  explicit Estimator(DeviceProfile profile, EstimatorOptions options = {});
  const DeviceProfile& profile() const { return profile_; }

  /// Estimate with a per-block breakdown. A missing kind throws InputError
  /// naming it, unless flops_fallback is on.
  EstimateResult estimate(const Architecture& arch) const;
  /// Estimates many architectures in parallel (oneTBB).
  std::vector<EstimateResult> estimate_batch(const std::vector<Architecture>& archs) const;
  /// Compiles the structure of `arch` for channel-only queries. Throws
  /// InputError naming a missing kind.
  EstimatePlan plan(const Architecture& arch) const;
  /// Means of many channel configurations of one plan, in parallel.
  /// `channels` holds rows of plan.num_channels() values.
  std::vector<double> mean_batch(const EstimatePlan& plan,
                                 const std::vector<int64_t>& channels) const;
  /// The FLOPs baseline's joules per iteration for `arch`.
  double flops_estimate(const Architecture& arch) const;
  /// Factor applied to a sum of blocks of this structure (structure_key()):
  /// its family's additivity scale × drift.
  double factor(const std::string& structure) const;
  /// Relative variance added to such an estimate (additivity, drift, noise).
  double extra_relative_variance(const std::string& structure) const;
  /// One line naming what the profile trained on.
  std::string basis() const;

 private:
  DeviceProfile profile_;
  EstimatorOptions options_;
  double anchor_noise_ = 0.0;  // anchors' mean relative median variance
};

/// The host's speed now against when a profile was made, from the reference
/// workload re-measured under the profile's protocol.
struct DriftCheck {
  double ratio = 1.0;             ///< reference J/iter now / in the profile
  double relative_std = 0.0;      ///< noise of that ratio (from both measurements' spread)
  bool significant = false;       ///< |ratio − 1| beyond 2 relative std
  bool beyond_tolerance = false;  ///< |ratio − 1| > tolerance
  std::string message;            ///< one line for the user
  /// Estimator settings that apply it: drift = ratio when significant.
  void apply(EstimatorOptions& options) const;
};

/// Re-measures the reference workload (protocol.hpp) with `options` and
/// compares it with the profile's. Throws InputError when the profile has no
/// reference record.
DriftCheck check_drift(const DeviceProfile& profile, EnergyMeter& meter,
                       const MeasureOptions& options, double tolerance = 0.03);

/// The run log of a job (`program`) in `folder`, described with this host
/// and `meter`; null for ranks that do not meter (`meter` null).
std::unique_ptr<RunLog> open_run_log(const std::string& folder, const std::string& program,
                                     const EnergyMeter* meter);

/// Records an estimate in the active run log (thor/run_log.hpp), if any: the
/// energy of `iterations` iterations, its relative std, source "estimated".
void log_estimate(const std::string& what, const std::string& subject, const EstimateResult& r,
                  int64_t iterations);

}  // namespace thor
