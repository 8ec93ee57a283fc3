#pragma once
/// \file
/// Energy oracles: what the pruning loop asks "how many joules per training
/// iteration would this channel configuration cost?". The loop runs once per
/// oracle so that the GP estimator (the paper's method) and the FLOPs
/// baseline can be compared on the same candidate pool.
#include <memory>
#include <string>
#include <vector>

#include "thor/estimator.hpp"
#include "thor/pruner/strategy.hpp"

namespace thor::pruner {

class EnergyOracle {
 public:
  EnergyOracle() = default;
  virtual ~EnergyOracle() = default;
  EnergyOracle(const EnergyOracle&) = delete;
  EnergyOracle& operator=(const EnergyOracle&) = delete;

  /// "estimator" or "flops".
  virtual std::string name() const = 0;
  /// Joules per training iteration of the baseline architecture with the
  /// prunable layers' counts set to `channels`. Contract: thread-safe and
  /// cheap (it is called for every sampled configuration).
  virtual double joules_per_iteration(const ChannelConfig& channels) const = 0;
};

/// Oracle names make_energy_oracle accepts: "estimator", "flops".
const std::vector<std::string>& energy_oracle_names();

/// "estimator": the GP estimate through a compiled EstimatePlan.
/// "flops": the FLOPs baseline (a·FLOPs + b) fitted on the same profile.
/// `estimator` must outlive the oracle. Unknown names are InputErrors.
std::unique_ptr<EnergyOracle> make_energy_oracle(const std::string& name,
                                                 const Estimator& estimator,
                                                 const Architecture& baseline);

}  // namespace thor::pruner
