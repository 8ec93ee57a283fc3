// docs/extending.md's example: a user's pruning strategy and cost oracle,
// registered before a run, survive it (the run registers nothing over them)
// and are used by it.
#include <doctest/doctest.h>

#include <algorithm>

#include "thor/cost_oracle.hpp"
#include "thor/io.hpp"
#include "thor/pruner/pruner.hpp"
#include "thor_test_support.hpp"

using namespace thor;
using namespace thor::pruner;

namespace {

// Keeps every layer at the same fraction, from the largest down.
class HalvingStrategy final : public PruningStrategy {
 public:
  std::string name() const override { return "halving"; }
  std::vector<ChannelConfig> propose(const PruneSpace& space, size_t count,
                                     std::mt19937_64&) const override {
    std::vector<ChannelConfig> out;
    for (size_t k = 0; k < count; ++k) {
      const double keep = 1.0 - static_cast<double>(k) / static_cast<double>(count);
      ChannelConfig c;
      for (int64_t b : space.baseline)
        c.push_back(std::max<int64_t>(1, static_cast<int64_t>(keep * b)));
      out.push_back(space.clamp(c));
    }
    return out;
  }
};

// Prices a network at 1.1 × the GP estimate: a cautious oracle.
class CautiousOracle final : public CostOracle {
 public:
  explicit CautiousOracle(const Estimator& e) : gp_(make_cost_oracle("estimator", e)) {}
  std::string name() const override { return "cautious"; }
  std::unique_ptr<CostPlan> plan(const Architecture& skeleton) const override {
    return std::make_unique<Plan>(gp_->plan(skeleton));
  }

 private:
  struct Plan final : CostPlan {
    explicit Plan(std::unique_ptr<CostPlan> p) : gp(std::move(p)) {}
    size_t num_channels() const override { return gp->num_channels(); }
    Cost predict(const int64_t* c) const override {
      const Cost g = gp->predict(c);
      return {1.1 * g.mean, 1.21 * g.variance};
    }
    std::unique_ptr<CostPlan> gp;
  };
  std::unique_ptr<CostOracle> gp_;
};

const char* kRecipe = R"(name: extending
meter: sim
data: {dataset: random, train_limit: 200, test_limit: 40}
model:
  input: [1, 28, 28]
  batch_size: 8
  layers:
    - conv: {out: 6, kernel: 3, padding: 1}
    - relu
    - maxpool: 2
    - flatten
    - linear: {out: 12}
    - relu
    - linear: {out: 10}
train: {iterations: 10}
profile: {max_points: 3, iterations: 1, repeats: 1, warmup: 0, min_window: 0, min_warmup: 0, anchors: 1}
measure: {iterations: 1, repeats: 1, warmup: 0, min_window: 0, min_warmup: 0}
prune: {budget: {fraction: 0.7}, samples: 20, candidates: 2, short_finetune: 2, final_finetune: 2,
        validation: 40, verify: 1, plots: false}
)";

}  // namespace

TEST_CASE("a user's pruning strategy and cost oracle survive a run and are used by it") {
  const testing::TempDir tmp("extending");
  write_file_atomic(tmp.str("r.yaml"), kRecipe);
  pruning_strategies().add("halving", [] { return std::make_unique<HalvingStrategy>(); });
  cost_oracles().add("cautious",
                     [](const Estimator& e) { return std::make_unique<CautiousOracle>(e); });
  // A built-in name is never taken over by accident.
  CHECK_THROWS_AS(
      pruning_strategies().add("random", [] { return std::make_unique<HalvingStrategy>(); }),
      std::invalid_argument);

  Recipe recipe = load_recipe(tmp.str("r.yaml"));
  recipe.output = tmp.str("out");
  PruneOptions options = parse_prune_options(recipe);
  options.progress = false;
  options.strategy = "halving";
  options.compare = {"flops", "cautious"};
  const PruneResult r = run_pruning(recipe, options);

  CHECK(r.strategy == "halving");
  REQUIRE(r.compare.size() == 2);
  CHECK(r.compare[1].oracle == "cautious");
  // The cautious oracle prices the baseline at 1.1 × the estimator's figure.
  CHECK(r.compare[1].oracle_baseline_joules ==
        doctest::Approx(1.1 * r.pruned.oracle_baseline_joules));
  // Every candidate is a uniform cut of the baseline [6, 12].
  for (const auto& c : r.pruned.candidates) CHECK(c.channels[1] >= c.channels[0]);
  // Still registered after the run, and still ours.
  CHECK(make_pruning_strategy("halving")->name() == "halving");
  CHECK(cost_oracles().contains("cautious"));
}
