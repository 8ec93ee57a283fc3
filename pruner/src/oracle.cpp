#include "thor/pruner/oracle.hpp"

namespace thor::pruner {

namespace {

class EstimatorOracle final : public EnergyOracle {
 public:
  EstimatorOracle(const Estimator& estimator, const Architecture& baseline)
      : plan_(estimator.plan(baseline)) {}
  std::string name() const override { return "estimator"; }
  double joules_per_iteration(const ChannelConfig& channels) const override {
    if (channels.size() != plan_.num_channels())
      throw InputError("estimator oracle: expected " + std::to_string(plan_.num_channels()) +
                       " channel counts, got " + std::to_string(channels.size()));
    return plan_.mean(channels.data());
  }

 private:
  EstimatePlan plan_;
};

class FlopsOracle final : public EnergyOracle {
 public:
  FlopsOracle(const Estimator& estimator, const Architecture& baseline)
      : estimator_(estimator), baseline_(baseline) {
    if (!estimator.profile().flops.fitted)
      throw InputError("flops oracle: the profile has no fitted FLOPs baseline");
  }
  std::string name() const override { return "flops"; }
  double joules_per_iteration(const ChannelConfig& channels) const override {
    return estimator_.flops_estimate(baseline_.with_channels(channels));
  }

 private:
  const Estimator& estimator_;
  Architecture baseline_;
};

}  // namespace

const std::vector<std::string>& energy_oracle_names() {
  static const std::vector<std::string> names{"estimator", "flops"};
  return names;
}

std::unique_ptr<EnergyOracle> make_energy_oracle(const std::string& name,
                                                 const Estimator& estimator,
                                                 const Architecture& baseline) {
  if (name == "estimator") return std::make_unique<EstimatorOracle>(estimator, baseline);
  if (name == "flops") return std::make_unique<FlopsOracle>(estimator, baseline);
  throw InputError("energy oracle '" + name + "': unknown; expected estimator or flops");
}

}  // namespace thor::pruner
