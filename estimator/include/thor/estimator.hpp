#pragma once
/// \file
/// The Estimator: joules per training iteration of any architecture built
/// from profiled LayerKinds, as the sum of its blocks' GP predictions
/// (paper eq. 4), with a standard deviation (blocks taken as independent).
/// A block's mean is floored at 0 J: a GP extrapolating below zero (possible
/// where subtraction leaves small, noisy targets) must not make a network
/// look cheaper than its other blocks.
/// It is the only thing pruning and search know about energy.
#include <memory>
#include <string>
#include <vector>

#include "thor/architecture.hpp"
#include "thor/profile.hpp"

namespace thor {

struct EstimatorOptions {
  /// When a block's kind is missing from the profile: false → error naming
  /// the kind; true → a FLOPs-scaled figure from the profile's baseline,
  /// marked `fallback` in the result.
  bool flops_fallback = false;
  /// Concurrency of batch estimation (0: all cores).
  int threads = 0;
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
  double flops = 0.0;   ///< training FLOPs per iteration of the block
  bool fallback = false;
};

struct EstimateResult {
  EstimateStatus status = EstimateStatus::ok;
  std::string message;
  double joules_per_iteration = 0.0;
  double std = 0.0;
  double flops = 0.0;               ///< training FLOPs per iteration
  double flops_joules = 0.0;        ///< the FLOPs baseline's estimate
  std::vector<LayerEstimate> layers;
  bool ok() const { return status == EstimateStatus::ok; }
  double total(int64_t iterations) const { return joules_per_iteration * static_cast<double>(iterations); }
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
    int c_in = -1;   ///< index into channels, -1 for the data's channel count
    int c_out = -1;  ///< index into channels, -1 for the fixed class count
    BlockRole role = BlockRole::output;
  };
  std::vector<Term> terms_;
  size_t n_params_ = 0;
  int64_t data_channels_ = 0;
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
  std::vector<double> mean_batch(const EstimatePlan& plan, const std::vector<int64_t>& channels) const;
  /// The FLOPs baseline's joules per iteration for `arch`.
  double flops_estimate(const Architecture& arch) const;

 private:
  DeviceProfile profile_;
  EstimatorOptions options_;
};

}  // namespace thor
