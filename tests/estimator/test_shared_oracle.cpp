// The layer prune and search share: the registered cost oracles, the budget
// rule, and ensure_profile's reuse-or-profile decision.
#include <doctest/doctest.h>

#include <cmath>

#include "thor/cost_oracle.hpp"
#include "thor/io.hpp"
#include "thor/profile_cache.hpp"
#include "thor/protocol.hpp"
#include "thor_test_support.hpp"

using namespace thor;

namespace {

Architecture small_cnn(int64_t conv = 6, int64_t hidden = 16) {
  Architecture a;
  a.input = {1, 12, 12};
  a.batch_size = 8;
  a.layers = {Layer::conv(conv, 3),
              Layer::simple(LayerType::relu),
              Layer::pool(LayerType::maxpool, 2),
              Layer::simple(LayerType::flatten),
              Layer::linear(hidden),
              Layer::simple(LayerType::relu),
              Layer::linear(10)};
  return a;
}

ProfileRequest sim_request(const std::string& path, const Architecture& arch) {
  ProfileRequest r;
  r.path = path;
  r.architectures = {arch};
  r.profiler.measure.iterations = 1;
  r.profiler.measure.warmup = 0;
  r.profiler.measure.repeats = 1;
  r.profiler.measure.min_window_seconds = 0;
  r.profiler.measure.min_warmup_seconds = 0;
  r.profiler.max_points = 4;
  r.profiler.anchors = 1;
  r.profiler.progress = false;
  return r;
}

std::unique_ptr<EnergyMeter> sim_meter() {
  register_sim_meter();
  return make_meter("sim", MeterOptions{});
}

}  // namespace

TEST_CASE(
    "ensure_profile: profiles when there is no cache, reuses a covering one, says why not "
    "otherwise") {
  const testing::TempDir tmp("profile-cache");
  auto meter = sim_meter();
  const std::string path = tmp.str("p.json");
  std::vector<std::string> told;
  ProfileRequest req = sim_request(path, small_cnn());
  req.on_decision = [&](const std::string& s) { told.push_back(s); };

  const ProfileDecision first = ensure_profile(req, *meter);
  CHECK_FALSE(first.reused);
  CHECK(first.measured > 0);
  CHECK(first.reason.find("no cached profile at " + path) == 0);
  REQUIRE(told.size() == 1);
  CHECK(told[0].find("profiling with sim") != std::string::npos);

  const ProfileDecision again = ensure_profile(req, *meter);
  CHECK(again.reused);
  CHECK(again.measured == 0);
  CHECK(again.reason == "reusing the profile " + path);

  // Wider than the profile covers: profiled again, and the reason names the kind.
  ProfileRequest wider = sim_request(path, small_cnn(12, 16));
  const ProfileDecision third = ensure_profile(wider, *meter);
  CHECK_FALSE(third.reused);
  CHECK(third.reason.find("covers channels") != std::string::npos);
  CHECK(third.reason.find("needs 1..12") != std::string::npos);

  // Other settings (here the protocol's iterations): profiled again.
  ProfileRequest other = sim_request(path, small_cnn(12, 16));
  other.profiler.measure.iterations = 2;
  const ProfileDecision fourth = ensure_profile(other, *meter);
  CHECK_FALSE(fourth.reused);
  CHECK(fourth.reason.find("other settings (iterations") != std::string::npos);

  // An unreadable cache is profiled over, with a warning naming the error.
  write_file_atomic(path, "{ not json");
  const ProfileDecision fifth = ensure_profile(other, *meter);
  CHECK_FALSE(fifth.reused);
  CHECK(fifth.warning.find("cached profile not usable") == 0);
}

TEST_CASE(
    "cost oracles: estimator and flops built in, a user's oracle added, names refused twice") {
  const testing::TempDir tmp("cost-oracle");
  auto meter = sim_meter();
  const Estimator est(ensure_profile(sim_request("", small_cnn()), *meter).profile);
  const Architecture base = small_cnn();
  const std::vector<int64_t> ch{4, 10};

  const auto gp = make_cost_oracle("estimator", est)->plan(base);
  REQUIRE(gp->num_channels() == 2);
  const Cost c = gp->predict(ch);
  CHECK(c.mean ==
        doctest::Approx(est.estimate(base.with_channels(ch)).joules_per_iteration).epsilon(1e-9));
  CHECK(c.variance > 0.0);
  const auto flops = make_cost_oracle("flops", est)->plan(base);
  CHECK(flops->predict(ch).mean == doctest::Approx(est.flops_estimate(base.with_channels(ch))));
  CHECK(flops->predict(ch).variance == 0.0);
  CHECK_THROWS_AS(gp->predict(std::vector<int64_t>{4}), InputError);
  CHECK_THROWS_WITH_AS(make_cost_oracle("watts", est),
                       doctest::Contains("cost oracle 'watts': unknown"), InputError);

  // A researcher's oracle: twice the estimator's figure.
  struct Twice final : CostOracle {
    explicit Twice(const Estimator& e) : inner(make_cost_oracle("estimator", e)) {}
    std::string name() const override { return "twice"; }
    std::unique_ptr<CostPlan> plan(const Architecture& a) const override {
      struct P final : CostPlan {
        std::unique_ptr<CostPlan> p;
        size_t num_channels() const override { return p->num_channels(); }
        Cost predict(const int64_t* c) const override { return {2 * p->predict(c).mean, 0.0}; }
      };
      auto out = std::make_unique<P>();
      out->p = inner->plan(a);
      return out;
    }
    std::unique_ptr<CostOracle> inner;
  };
  if (!cost_oracles().contains("twice"))
    cost_oracles().add("twice", [](const Estimator& e) { return std::make_unique<Twice>(e); });
  CHECK(make_cost_oracle("twice", est)->plan(base)->predict(ch).mean ==
        doctest::Approx(2 * c.mean));
  CHECK_THROWS_AS(cost_oracles().add("estimator",
                                     [](const Estimator& e) { return std::make_unique<Twice>(e); }),
                  std::invalid_argument);
  CHECK(make_cost_oracle("estimator", est)->name() == "estimator");
}

TEST_CASE("budget rule: full-run joules, a systematic std that scales with N, confidence") {
  BudgetOptions o;
  o.budget_joules = 100.0;
  o.iterations = 10;
  const BudgetRule mean_only(o);
  const Verdict v = mean_only.judge({9.0, 0.25});  // 90 J ± 5 J
  CHECK(v.joules == doctest::Approx(90.0));
  CHECK(v.std == doctest::Approx(5.0));
  CHECK(v.probability == doctest::Approx(0.97725).epsilon(1e-4));  // P(Z <= 2)
  CHECK(v.feasible);
  CHECK(mean_only.fits_mean(10.0));
  CHECK_FALSE(mean_only.fits_mean(10.0001));

  o.confidence = 0.99;  // z = 2.326: 90 + 11.6 > 100
  CHECK_FALSE(BudgetRule(o).judge({9.0, 0.25}).feasible);
  o.confidence = 0.95;  // z = 1.645: 90 + 8.2 <= 100
  CHECK(BudgetRule(o).judge({9.0, 0.25}).feasible);

  for (double bad : {0.0, -1.0, double(NAN), double(INFINITY)}) {
    BudgetOptions b = o;
    b.budget_joules = bad;
    CHECK_THROWS_WITH_AS(b.validate(), doctest::Contains("budget_joules"), InputError);
  }
  BudgetOptions c = o;
  c.confidence = 1.0;
  CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("confidence"), InputError);
  c.confidence = 0.5;
  c.iterations = 0;
  CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("iterations"), InputError);
}
