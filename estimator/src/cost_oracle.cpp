#include "thor/cost_oracle.hpp"

#include <boost/math/distributions/normal.hpp>
#include <cmath>

#include "thor/format.hpp"

namespace thor {

namespace {

class EstimatorPlan final : public CostPlan {
 public:
  explicit EstimatorPlan(EstimatePlan plan) : plan_(std::move(plan)) {}
  size_t num_channels() const override { return plan_.num_channels(); }
  Cost predict(const int64_t* channels) const override {
    const auto p = plan_.predict(channels);
    return {p.mean, std::max(0.0, p.variance)};
  }
  double mean(const int64_t* channels) const override { return plan_.mean(channels); }

 private:
  EstimatePlan plan_;
};

class EstimatorOracle final : public CostOracle {
 public:
  explicit EstimatorOracle(const Estimator& estimator) : estimator_(estimator) {}
  std::string name() const override { return "estimator"; }
  std::unique_ptr<CostPlan> plan(const Architecture& skeleton) const override {
    return std::make_unique<EstimatorPlan>(estimator_.plan(skeleton));
  }

 private:
  const Estimator& estimator_;
};

// The calibrated FLOPs baseline: rebuilds the architecture per query, so it
// is slower than the estimator's compiled plan, and it has no std.
class FlopsPlan final : public CostPlan {
 public:
  FlopsPlan(const Estimator& estimator, Architecture skeleton)
      : estimator_(estimator),
        skeleton_(std::move(skeleton)),
        n_(skeleton_.channels().size() - 1) {}
  size_t num_channels() const override { return n_; }
  Cost predict(const int64_t* channels) const override {
    const std::vector<int64_t> c(channels, channels + n_);
    return {estimator_.flops_estimate(skeleton_.with_channels(c)), 0.0};
  }

 private:
  const Estimator& estimator_;
  Architecture skeleton_;
  size_t n_;
};

class FlopsOracle final : public CostOracle {
 public:
  explicit FlopsOracle(const Estimator& estimator) : estimator_(estimator) {
    if (!estimator.profile().flops.fitted)
      throw InputError("flops oracle: the profile has no fitted FLOPs baseline");
  }
  std::string name() const override { return "flops"; }
  std::unique_ptr<CostPlan> plan(const Architecture& skeleton) const override {
    if (skeleton.channels().empty())
      throw InputError("flops oracle: the architecture has no conv/linear layer");
    return std::make_unique<FlopsPlan>(estimator_, skeleton);
  }

 private:
  const Estimator& estimator_;
};

}  // namespace

Cost CostPlan::predict(const std::vector<int64_t>& channels) const {
  if (channels.size() != num_channels())
    throw InputError("cost plan: expected " + std::to_string(num_channels()) +
                     " channel counts, got " + std::to_string(channels.size()));
  return predict(channels.data());
}

Registry<CostOracleFactory>& cost_oracles() {
  static Registry<CostOracleFactory> registry("cost oracle", [] {
    return Registry<CostOracleFactory>::Entries{
        {"estimator", [](const Estimator& e) { return std::make_unique<EstimatorOracle>(e); }},
        {"flops", [](const Estimator& e) { return std::make_unique<FlopsOracle>(e); }}};
  });
  return registry;
}

std::unique_ptr<CostOracle> make_cost_oracle(const std::string& name, const Estimator& estimator) {
  return cost_oracles().create(name, estimator);
}

void BudgetOptions::validate() const {
  const FieldRules f("");
  f.require(std::isfinite(budget_joules) && budget_joules > 0.0, "budget_joules",
            value_text(budget_joules), "expected a positive, finite number of joules");
  f.require(std::isfinite(confidence) && confidence >= 0.0 && confidence < 1.0, "confidence",
            value_text(confidence),
            "expected 0 (compare the estimate itself) or a probability in (0, 1), e.g. 0.95");
  f.count("iterations", iterations, 1);
}

BudgetRule::BudgetRule(BudgetOptions options) : options_(options) {
  options_.validate();
  if (options_.confidence > 0.0)
    z_ = boost::math::quantile(boost::math::normal_distribution<double>(), options_.confidence);
}

Verdict BudgetRule::judge(const Cost& per_iteration) const {
  const double n = static_cast<double>(options_.iterations);
  Verdict v;
  v.joules = per_iteration.mean * n;
  v.std = std::sqrt(std::max(0.0, per_iteration.variance)) * n;
  const double b = options_.budget_joules;
  if (v.std > 0.0)
    v.probability = 0.5 * std::erfc(-(b - v.joules) / (v.std * std::sqrt(2.0)));
  else
    v.probability = v.joules <= b ? 1.0 : 0.0;
  v.feasible = options_.confidence > 0.0 ? v.joules + z_ * v.std <= b : v.joules <= b;
  return v;
}

bool BudgetRule::fits_mean(double mean_per_iteration) const {
  return mean_per_iteration * static_cast<double>(options_.iterations) <= options_.budget_joules;
}

}  // namespace thor
