// Profiling plans, guided profiling on the synthetic device, profiles as
// JSON, and the Estimator's answers.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <set>

#include "thor/estimator.hpp"
#include "thor/io.hpp"
#include "thor/profiler.hpp"
#include "thor_test_support.hpp"

using namespace thor;

namespace {

Architecture lenet() {
  return load_architecture(std::string(THOR_SOURCE_DIR) + "/recipes/arch/lenet5.yaml");
}

// Cheap protocol settings: the sim meter's energy does not depend on time.
ProfilerOptions sim_options() {
  ProfilerOptions o;
  o.measure.iterations = 1;
  o.measure.warmup = 0;
  o.measure.repeats = 1;
  o.progress = false;
  o.max_points = 10;
  o.std_fraction = 0.01;
  return o;
}

// MAPE of the estimator against the synthetic truth over random channel
// configurations of `base` (every layer uniform in 1..original).
double sim_mape(const Estimator& est, const Architecture& base, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const auto ch = base.channels();
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    std::vector<int64_t> c;
    for (size_t k = 0; k + 1 < ch.size(); ++k)
      c.push_back(std::uniform_int_distribution<int64_t>(1, ch[k])(rng));
    const Architecture a = base.with_channels(c);
    const double truth = sim_joules_per_iteration(a);
    sum += std::fabs(est.estimate(a).joules_per_iteration - truth) / truth;
  }
  return sum / n;
}

}  // namespace

TEST_CASE("profiling plans order kinds so that subtraction has what it needs") {
  const auto plans = plan_profiling({lenet()});
  REQUIRE(plans.size() >= 5);
  std::set<std::string> seen;
  for (const auto& p : plans) {
    const auto top = p.variant(p.upper);
    const auto blocks = split_blocks(top);
    CHECK(blocks.size() == (p.role == BlockRole::output  ? 1u
                            : p.role == BlockRole::input ? 2u
                                                         : 3u));
    CHECK(blocks.at(p.target_block).key == p.key);
    for (size_t b = 0; b < blocks.size(); ++b)
      if (b != p.target_block)
        CHECK_MESSAGE(seen.count(blocks[b].key), blocks[b].key << " needed by " << p.key);
    seen.insert(p.key);
  }
  // Every block of LeNet-5 has a plan, with a range up to its own channels.
  for (const auto& b : split_blocks(lenet())) {
    auto it =
        std::find_if(plans.begin(), plans.end(), [&](const KindPlan& p) { return p.key == b.key; });
    REQUIRE(it != plans.end());
    for (size_t d = 0; d < b.features.size(); ++d) CHECK(it->upper[d] >= b.features[d]);
  }
}

TEST_CASE(
    "guided profiling recovers the synthetic device within 2% with fewer points than a grid") {
  register_sim_meter();
  MeterOptions mo;
  auto meter = make_meter("sim", mo);
  const Architecture base = lenet();
  const ProfileResult guided = run_profiler({base}, *meter, mo, sim_options());
  const Estimator est(guided.profile);
  const double mape = sim_mape(est, base, 60, 11);
  size_t guided_points = 0;
  for (const auto& [k, kind] : guided.profile.kinds) guided_points += kind.points.size();
  MESSAGE("guided: " << guided_points << " points, MAPE " << 100 * mape << "%");
  CHECK(mape < 0.02);
  CHECK(guided.measured == static_cast<int>(guided_points));
  // The stop rule (relative std over the box and leave-one-out error) ends
  // some kinds before max_points; every stop names its reason.
  int stopped_by_rule = 0;
  for (const auto& [k, kind] : guided.profile.kinds) {
    CHECK(!kind.stop_reason.empty());
    if (kind.stop_reason.find("leave-one-out") != std::string::npos) {
      ++stopped_by_rule;
      double variants = 0.0;
      for (const auto& pt : kind.points)
        variants += pt.measured / static_cast<double>(kind.points.size());
      CHECK(kind.model.loo_rms() / variants < sim_options().loo_fraction);
    }
  }
  CHECK(stopped_by_rule >= 3);

  // An evenly spaced grid with the same per-kind budget: comparable accuracy
  // for more points (the work model carries most of the surface).
  ProfilerOptions uniform = sim_options();
  uniform.guided = false;
  const ProfileResult grid = run_profiler({base}, *meter, mo, uniform);
  size_t grid_points = 0;
  for (const auto& [k, kind] : grid.profile.kinds) grid_points += kind.points.size();
  const double grid_mape = sim_mape(Estimator(grid.profile), base, 60, 11);
  MESSAGE("uniform grid: " << grid_points << " points, MAPE " << 100 * grid_mape << "%");
  CHECK(grid_points >= guided_points);
  CHECK(mape < 1.5 * grid_mape + 0.002);
}

TEST_CASE("profiles name what the variants were fed; estimates say so beside the figure") {
  register_sim_meter();
  MeterOptions mo;
  auto meter = make_meter("sim", mo);
  const Architecture base = lenet();
  ProfilerOptions o = sim_options();
  o.max_points = 4;
  const DeviceProfile stand_in = run_profiler({base}, *meter, mo, o).profile;
  CHECK(stand_in.settings.data == kStandIn);
  for (const auto& [k, kind] : stand_in.kinds)
    for (const auto& p : kind.points) CHECK(p.feed == kStandIn);
  const EstimateResult e = Estimator(stand_in).estimate(base);
  CHECK(e.basis.find("stand-in") != std::string::npos);
  CHECK(e.full_report().find("stand-in") != std::string::npos);

  const Dataset data = random_dataset({1, 28, 28}, 64, 10, 5);
  o.feed.data = &data;
  o.feed.train.lr = 0.02;
  const DeviceProfile real = run_profiler({base}, *meter, mo, o).profile;
  CHECK(real.settings.data == data.name);
  CHECK(real.settings.lr == 0.02);
  // Variants whose input is the data's shape took the data; the others (an
  // output layer on activations) the stand-in, each named.
  bool saw_data = false, saw_stand_in = false;
  for (const auto& [k, kind] : real.kinds)
    for (const auto& p : kind.points) {
      saw_data |= p.feed == data.name;
      saw_stand_in |= p.feed == kStandIn;
    }
  CHECK(saw_data);
  CHECK(saw_stand_in);
  CHECK(Estimator(real).estimate(base).basis.find(data.name) != std::string::npos);
  const auto diff = real.settings.differences(stand_in.settings);
  CHECK(std::find_if(diff.begin(), diff.end(),
                     [](const std::string& d) { return d.rfind("data:", 0) == 0; }) != diff.end());
}

namespace {
// The sim device running `factor` times slower than when it was profiled.
class DriftedSim final : public EnergyMeter {
 public:
  explicit DriftedSim(double factor) : factor_(factor) {}
  std::string name() const override { return "sim"; }
  EnergyKind kind() const override { return EnergyKind::simulated; }
  void set_workload(const Workload& w) override { w_ = w; }
  void start() override {}
  EnergyReading stop() override {
    EnergyReading r;
    r.kind = EnergyKind::simulated;
    r.seconds = 1.0;
    r.joules =
        factor_ * sim_joules_per_iteration(*w_.architecture) * static_cast<double>(w_.iterations);
    return r;
  }

 private:
  double factor_;
  Workload w_;
};
}  // namespace

TEST_CASE("anchors check additivity; the drift check rescales estimates when the host changed") {
  register_sim_meter();
  MeterOptions mo;
  auto meter = make_meter("sim", mo);
  const Architecture base = lenet();
  ProfilerOptions o = sim_options();
  o.max_points = 5;
  const DeviceProfile p = run_profiler({base}, *meter, mo, o).profile;
  // sim is additive by construction: the anchors agree with the sum of blocks.
  REQUIRE(p.anchors.size() == 4);
  CHECK(p.anchors[0].architecture == base.summary());
  CHECK(p.additivity.anchors == 4);
  CHECK(p.additivity.scale == doctest::Approx(1.0).epsilon(0.03));
  // The family's own correction, found again after a JSON round trip.
  REQUIRE(p.structure_additivity.count(structure_key(base)) == 1);
  const DeviceProfile back = DeviceProfile::from_json(p.to_json(), "p");
  CHECK(back.additivity_for(structure_key(base)).scale ==
        p.additivity_for(structure_key(base)).scale);
  REQUIRE(p.reference.measured());
  CHECK(p.reference.joules_per_iteration ==
        doctest::Approx(sim_joules_per_iteration(reference_architecture())));

  DriftedSim same(1.0), slower(1.10);
  MeasureOptions m = o.measure;
  const DriftCheck none = check_drift(p, same, m);
  CHECK(none.ratio == doctest::Approx(1.0));
  CHECK_FALSE(none.beyond_tolerance);
  const DriftCheck drifted = check_drift(p, slower, m);
  CHECK(drifted.ratio == doctest::Approx(1.10));
  CHECK(drifted.significant);
  CHECK(drifted.beyond_tolerance);
  CHECK(drifted.message.find("+10") != std::string::npos);
  EstimatorOptions eo;
  drifted.apply(eo);
  CHECK(Estimator(p, eo).estimate(base).joules_per_iteration ==
        doctest::Approx(1.10 * Estimator(p).estimate(base).joules_per_iteration));
  DeviceProfile no_ref = p;
  no_ref.reference = ReferenceRecord{};
  CHECK_THROWS_WITH_AS(check_drift(no_ref, same, m), doctest::Contains("reference"), InputError);
}

TEST_CASE("profiles round-trip through JSON and bad files are named") {
  register_sim_meter();
  MeterOptions mo;
  auto meter = make_meter("sim", mo);
  const Architecture base = lenet();
  ProfilerOptions o = sim_options();
  o.max_points = 4;
  const DeviceProfile p = run_profiler({base}, *meter, mo, o).profile;
  testing::TempDir dir("profile");
  p.save(dir.str("p.json"));
  const DeviceProfile back = DeviceProfile::load(dir.str("p.json"));
  CHECK(back.kinds.size() == p.kinds.size());
  CHECK(back.settings.differences(p.settings).empty());
  const Architecture small = base.with_channels({3, 7, 50, 20});
  CHECK(Estimator(back).estimate(small).joules_per_iteration ==
        Estimator(p).estimate(small).joules_per_iteration);
  CHECK(back.settings.kind == EnergyKind::simulated);

  // Truncated and corrupt files.
  const std::string text = read_file(dir.str("p.json"));
  write_file_atomic(dir.str("cut.json"), text.substr(0, text.size() / 2));
  CHECK_THROWS_WITH_AS(DeviceProfile::load(dir.str("cut.json")), doctest::Contains("cut.json"),
                       InputError);
  write_file_atomic(dir.str("wrong.json"), R"({"schema_version": 2, "settings": {}})");
  CHECK_THROWS_WITH_AS(DeviceProfile::load(dir.str("wrong.json")), doctest::Contains("settings"),
                       InputError);
  // Profiles from before the layer models are refused by version.
  write_file_atomic(dir.str("old.json"), R"({"schema_version": 1, "settings": {}})");
  CHECK_THROWS_WITH_AS(DeviceProfile::load(dir.str("old.json")),
                       doctest::Contains("schema_version 1"), InputError);
  CHECK_THROWS_WITH_AS(DeviceProfile::load(dir.str("old.json")),
                       doctest::Contains("profile the device again"), InputError);
  CHECK_THROWS_WITH_AS(DeviceProfile::load(dir.str("none.json")), doctest::Contains("none.json"),
                       InputError);

  // Settings differences are named.
  ProfileSettings other = p.settings;
  other.threads = 4;
  const auto diff = p.settings.differences(other);
  REQUIRE(diff.size() == 1);
  CHECK(diff[0].find("threads") != std::string::npos);
}

TEST_CASE("profiles and journals the estimator could not use are input errors (fuzz/)") {
  register_sim_meter();
  MeterOptions mo;
  auto meter = make_meter("sim", mo);
  testing::TempDir dir("fuzzed");
  ProfilerOptions o = sim_options();
  o.max_points = 4;
  o.anchors = 0;
  o.journal_path = dir.str("p.journal");
  const nlohmann::json good = run_profiler({lenet()}, *meter, mo, o).profile.to_json();
  const auto error_of = [&](const nlohmann::json& j, const std::string& text = "") {
    write_file_atomic(dir.str("p.json"), text.empty() ? j.dump() : text);
    try {
      Estimator(DeviceProfile::load(dir.str("p.json"))).estimate(lenet());
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const auto has = [](const std::string& error, const std::string& part) {
    REQUIRE_MESSAGE(error.find(part) != std::string::npos, error);
  };
  // A number out of double's range: nlohmann's out_of_range, not a parse_error.
  has(error_of(good, R"({"schema_version": 2e999})"), "p.json: not valid JSON");
  // A kind whose model has another role's number of features (a logic_error at estimate time).
  size_t hidden = 0, one_d = 0;
  for (size_t i = 0; i < good["kinds"].size(); ++i)
    (good["kinds"][i]["role"] == "hidden" ? hidden : one_d) = i;
  nlohmann::json j = good;
  j["kinds"][hidden]["model"] = good["kinds"][one_d]["model"];
  has(error_of(j), "key 'kinds[" + std::to_string(hidden) + "]': kind 'hidden:");
  // A residual GP over more inputs than the model's features (read past them).
  j = good;
  j["kinds"][one_d]["model"]["residual_gp"] = good["kinds"][hidden]["model"]["residual_gp"];
  has(error_of(j), "key 'residual_gp': input_dim 2, expected 'dims' (1)");
  // A journal line that is whole JSON but not a measurement (a json exception).
  std::ofstream(o.journal_path, std::ios::app) << R"({"key": "x", "features": "many"})"
                                               << "\n";
  const std::string journal_error = [&] {
    try {
      run_profiler({lenet()}, *meter, mo, o);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  has(journal_error, "p.journal:");
  has(journal_error, ": not a measurement");
}

TEST_CASE("the estimator sums blocks, names missing kinds, and its fast plan agrees") {
  register_sim_meter();
  MeterOptions mo;
  auto meter = make_meter("sim", mo);
  const Architecture base = lenet();
  ProfilerOptions o = sim_options();
  o.max_points = 5;
  const Estimator est(run_profiler({base}, *meter, mo, o).profile);
  const EstimateResult r = est.estimate(base);
  REQUIRE(r.ok());
  REQUIRE(r.layers.size() == 5);
  double sum = 0.0, var = 0.0;
  for (const auto& l : r.layers) {
    sum += l.joules;
    var += l.std * l.std;
  }
  CHECK(r.joules_per_iteration == doctest::Approx(sum));
  CHECK(r.model_std == doctest::Approx(std::sqrt(var)));
  // The full std adds additivity, drift and measurement noise to the models'.
  CHECK(r.std >= r.model_std);
  CHECK(r.total(100) == doctest::Approx(100 * sum));

  const EstimatePlan plan = est.plan(base);
  REQUIRE(plan.num_channels() == 4);
  std::mt19937_64 rng(3);
  std::vector<int64_t> batch;
  std::vector<double> expected;
  for (int i = 0; i < 50; ++i) {
    std::vector<int64_t> c{std::uniform_int_distribution<int64_t>(1, 6)(rng),
                           std::uniform_int_distribution<int64_t>(1, 16)(rng),
                           std::uniform_int_distribution<int64_t>(1, 120)(rng),
                           std::uniform_int_distribution<int64_t>(1, 84)(rng)};
    const EstimateResult full = est.estimate(base.with_channels(c));
    CHECK(plan.mean(c.data()) == doctest::Approx(full.joules_per_iteration).epsilon(1e-12));
    CHECK(std::sqrt(plan.predict(c.data()).variance) == doctest::Approx(full.std).epsilon(1e-9));
    batch.insert(batch.end(), c.begin(), c.end());
    expected.push_back(full.joules_per_iteration);
  }
  const auto means = est.mean_batch(plan, batch);
  REQUIRE(means.size() == expected.size());
  for (size_t i = 0; i < means.size(); ++i)
    CHECK(means[i] == doctest::Approx(expected[i]).epsilon(1e-12));

  // A kernel size the profile never saw.
  Architecture other = base;
  other.layers[3].kernel = 3;
  CHECK_THROWS_WITH_AS(est.estimate(other), doctest::Contains("k3"), InputError);
  EstimatorOptions fallback;
  fallback.flops_fallback = true;
  const Estimator loose(est.profile(), fallback);
  const EstimateResult f = loose.estimate(other);
  CHECK(f.status == EstimateStatus::missing_kind);
  CHECK(f.layers[1].fallback);
  CHECK(f.joules_per_iteration > 0.0);
}

TEST_CASE("the additivity correction follows consistent anchors and shrinks noisy ones to 1") {
  auto anchor = [](double measured, double estimated) {
    Anchor a;
    a.measured = measured;
    a.estimated = estimated;
    a.variance = (0.002 * measured) * (0.002 * measured);
    return a;
  };
  const AdditivityCorrection biased =
      fit_additivity({anchor(1.10, 1.0), anchor(2.21, 2.0), anchor(0.549, 0.5)});
  CHECK(biased.anchors == 3);
  CHECK(biased.scale == doctest::Approx(1.10).epsilon(0.01));
  CHECK(biased.relative_std < 0.01);
  // Ratios 1.02, 0.97, 1.01: a spread, no clear shift.
  const AdditivityCorrection noisy =
      fit_additivity({anchor(1.02, 1.0), anchor(0.97, 1.0), anchor(1.01, 1.0)});
  CHECK(std::fabs(noisy.scale - 1.0) < 0.003);
  CHECK(noisy.relative_std > 0.015);
  CHECK(fit_additivity({anchor(1.5, 1.0)}).scale == 1.0);  // one anchor: no correction
}

namespace {
// The sim device, with one hiccup: the second to fourth reference-workload
// windows it meters read 25 % high (one whole reference measurement).
class HiccupSim final : public EnergyMeter {
 public:
  std::string name() const override { return "sim"; }
  EnergyKind kind() const override { return EnergyKind::simulated; }
  void set_workload(const Workload& w) override { w_ = w; }
  void start() override {}
  EnergyReading stop() override {
    EnergyReading r;
    r.kind = EnergyKind::simulated;
    r.seconds = 1.0;
    double f = 1.0;
    if (w_.architecture->summary() == reference_architecture().summary() && ++refs_ >= 2 &&
        refs_ <= 4)
      f = 1.25;
    r.joules = f * sim_joules_per_iteration(*w_.architecture) * static_cast<double>(w_.iterations);
    return r;
  }

 private:
  Workload w_;
  int refs_ = 0;
};
}  // namespace

TEST_CASE("one reference measurement's hiccup does not move the profile") {
  register_sim_meter();
  MeterOptions mo;
  auto clean_meter = make_meter("sim", mo);
  HiccupSim hiccup;
  const Architecture base = lenet();
  ProfilerOptions o = sim_options();
  o.max_points = 5;
  const DeviceProfile clean = run_profiler({base}, *clean_meter, mo, o).profile;
  const DeviceProfile bumped = run_profiler({base}, hiccup, mo, o).profile;
  for (const auto& kind : bumped.kinds)  // no structured binding: CHECK_MESSAGE captures it
    for (const auto& p : kind.second.points) CHECK_MESSAGE(p.drift == 1.0, kind.first);
  CHECK(bumped.reference.joules_per_iteration ==
        doctest::Approx(clean.reference.joules_per_iteration));
  const Architecture small = base.with_channels({3, 9, 60, 30});
  CHECK(Estimator(bumped).estimate(small).joules_per_iteration ==
        doctest::Approx(Estimator(clean).estimate(small).joules_per_iteration).epsilon(1e-6));
}
