// Pruning strategies (registry, contracts) and the `prune:` recipe section.
#include <doctest/doctest.h>

#include <cstdlib>
#include <random>
#include <set>

#include "thor/pruner/options.hpp"
#include "thor/pruner/strategy.hpp"
#include "thor/yaml_util.hpp"

using namespace thor;
using namespace thor::pruner;

namespace {

bool within(const PruneSpace& s, const ChannelConfig& c) {
  if (c.size() != s.baseline.size()) return false;
  for (size_t i = 0; i < c.size(); ++i)
    if (c[i] < s.lower[i] || c[i] > s.baseline[i]) return false;
  return true;
}

Recipe recipe_with_prune(const std::string& prune_yaml) {
  Recipe r;
  r.path = "t.yaml";
  r.prune = load_yaml_text("prune:\n" + prune_yaml, "t.yaml").child("prune");
  return r;
}

std::string parse_error(const std::string& prune_yaml) {
  try {
    parse_prune_options(recipe_with_prune(prune_yaml));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("strategy registry") {
  const auto names = pruning_strategies().names();
  CHECK(std::find(names.begin(), names.end(), "random") != names.end());
  CHECK(std::find(names.begin(), names.end(), "uniform") != names.end());
  CHECK(make_pruning_strategy("random")->name() == "random");
  try {
    make_pruning_strategy("greedy");
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("random") != std::string::npos);
  }
}

TEST_CASE("PruneSpace lower bounds") {
  const PruneSpace s = PruneSpace::from_baseline({6, 16, 120, 1}, 0.2);
  CHECK(s.lower == ChannelConfig{2, 4, 24, 1});
  CHECK(s.clamp({0, 100, 50, 3}) == ChannelConfig{2, 16, 50, 1});
}

TEST_CASE("random strategy: within bounds, deterministic, varied per layer") {
  const auto st = make_pruning_strategy("random");
  const PruneSpace s = PruneSpace::from_baseline({6, 16, 120, 84}, 0.25);
  std::mt19937_64 a(7), b(7);
  const auto pa = st->propose(s, 500, a);
  const auto pb = st->propose(s, 500, b);
  REQUIRE(pa.size() == 500);
  CHECK(pa == pb);
  std::set<ChannelConfig> distinct(pa.begin(), pa.end());
  CHECK(distinct.size() > 400);
  bool non_uniform = false;
  for (const auto& c : pa) {
    REQUIRE(within(s, c));
    non_uniform = non_uniform || (c[0] * 16 != c[1] * 6);
  }
  CHECK(non_uniform);
}

TEST_CASE("uniform strategy: one keep ratio, covering [min_keep, 1]") {
  const auto st = make_pruning_strategy("uniform");
  const PruneSpace s = PruneSpace::from_baseline({10, 20, 40}, 0.5);
  std::mt19937_64 rng(1);
  const auto p = st->propose(s, 11, rng);
  REQUIRE(p.size() == 11);
  CHECK(p.front() == ChannelConfig{5, 10, 20});
  CHECK(p.back() == ChannelConfig{10, 20, 40});
  for (const auto& c : p) {
    REQUIRE(within(s, c));
    CHECK(std::abs(c[1] - 2 * c[0]) <= 1);  // same ratio, up to rounding
  }
}

TEST_CASE("prune options: defaults and every budget form") {
  Recipe none;
  const PruneOptions d = parse_prune_options(none);
  CHECK(d.strategy == "random");
  CHECK(d.budget.kind == PruneBudget::Kind::fraction);
  CHECK(d.budget.value == doctest::Approx(0.5));

  PruneOptions o =
      parse_prune_options(recipe_with_prune("  budget: {fraction: 0.4}\n  compare: [flops]\n"));
  CHECK(o.budget.per_iteration(2.0, 100) == doctest::Approx(0.8));
  CHECK(o.compare == std::vector<std::string>{"flops"});
  o = parse_prune_options(recipe_with_prune("  budget: {joules_per_iteration: 0.03}\n"));
  CHECK(o.budget.kind == PruneBudget::Kind::joules_per_iteration);
  CHECK(o.budget.per_iteration(2.0, 100) == doctest::Approx(0.03));
  o = parse_prune_options(recipe_with_prune("  budget: {joules: 50}\n"));
  CHECK(o.budget.per_iteration(2.0, 100) == doctest::Approx(0.5));
  o = parse_prune_options(recipe_with_prune("  budget: 0.25\n  strategy: uniform\n"));
  CHECK(o.budget.value == doctest::Approx(0.25));
  CHECK(o.strategy == "uniform");
  o = parse_prune_options(recipe_with_prune("  band: 0.02\n"));
  CHECK(o.verify_margin <= 0.01);
}

TEST_CASE("prune options: errors name file, line and key") {
  CHECK(parse_error("  budgett: 0.5\n").find("t.yaml:2: key 'prune.budgett': unknown key") !=
        std::string::npos);
  CHECK(parse_error("  budget: {fraction: 0}\n").find("t.yaml:2: key 'prune.budget.fraction'") !=
        std::string::npos);
  CHECK(parse_error("  budget: {fraction: -1}\n").find("key 'prune.budget.fraction'") !=
        std::string::npos);
  CHECK(parse_error("  budget: {fraction: 1.5}\n").find("key 'prune.budget.fraction'") !=
        std::string::npos);
  CHECK(parse_error("  budget: {fraction: 0.5, joules: 3}\n").find("exactly one of") !=
        std::string::npos);
  CHECK(parse_error("  budget: {joules: -3}\n").find("key 'prune.budget.joules'") !=
        std::string::npos);
  CHECK(parse_error("  samples: many\n").find("key 'prune.samples': expected an integer") !=
        std::string::npos);
  CHECK(parse_error("  min_keep: 1.5\n").find("key 'prune.min_keep': value 1.5 out of range") !=
        std::string::npos);
  CHECK(
      parse_error("  strategy: greedy\n").find("key 'prune.strategy': unknown strategy 'greedy'") !=
      std::string::npos);
  CHECK(parse_error("  compare: [watts]\n").find("key 'prune.compare[0]'") != std::string::npos);
  CHECK(parse_error("  band: 0.1\n  verify_margin: 0.2\n").find("key 'prune.verify_margin'") !=
        std::string::npos);
  CHECK(parse_error("  test_samples: 0\n").find("key 'prune.test_samples'") != std::string::npos);
}
