// The API path of the option rules: PruneOptions and SearchOptions built by
// hand fail validate() with a FieldError naming the field; parsed from a
// recipe, the same rules name the file, line and key.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "thor/pruner/options.hpp"
#include "thor/pruner/strategy.hpp"
#include "thor/search/search.hpp"
#include "thor/search/strategy.hpp"

using namespace thor;

namespace {

// The FieldError `f` throws; fails the test when it throws none.
template <class F>
FieldError field_error_of(F&& f) {
  try {
    f();
  } catch (const FieldError& e) {
    return e;
  }
  FAIL("expected a FieldError");
  return FieldError("", "");
}

Recipe recipe_with(const std::string& section, const std::string& yaml) {
  Recipe r;
  r.path = "t.yaml";
  const YamlCursor c = load_yaml_text(section + ":\n" + yaml, "t.yaml").child(section);
  (section == "prune" ? r.prune : r.search) = c;
  return r;
}

std::string parse_error(const std::string& section, const std::string& yaml) {
  try {
    if (section == "prune")
      pruner::parse_prune_options(recipe_with(section, yaml));
    else
      search::parse_search_recipe(recipe_with(section, yaml));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

const char* const kSpace =
    "  space: {input: [1, 28, 28], classes: 10, batch_size: [8], conv_blocks: [1], channels: [2, "
    "4],\n"
    "          kernels: [3], pooling: [max], linear_layers: [0]}\n";

}  // namespace

TEST_CASE("PruneOptions::validate names the field") {
  pruner::PruneOptions o;
  CHECK_NOTHROW(o.validate());
  SUBCASE("samples") {
    o.samples = 0;
    const FieldError e = field_error_of([&] { o.validate(); });
    CHECK(e.field() == "samples");
    CHECK(std::string(e.what()) == "prune.samples = 0: expected a value in [1, 10000000]");
  }
  SUBCASE("budget") {
    o.budget.value = 1.5;
    const FieldError e = field_error_of([&] { o.validate(); });
    CHECK(e.field() == "budget.fraction");
    CHECK(std::string(e.what()) == "prune.budget.fraction = 1.5: expected a fraction in (0, 1]");
  }
  SUBCASE("verify_margin against band") {
    o.band = 0.02;
    CHECK(field_error_of([&] { o.validate(); }).field() == "verify_margin");
  }
  SUBCASE("strategy from the registry") {
    o.strategy = "greedy";
    CHECK(field_error_of([&] { o.validate(); }).field() == "strategy");
  }
}

TEST_CASE("prune recipe: a rule once only in the parser is still reported at its key") {
  CHECK(parse_error("prune", "  band: 0.1\n  verify_margin: 0.2\n") ==
        "t.yaml:3: key 'prune.verify_margin': expected 0 <= verify_margin <= band / 2 (band = "
        "0.1), got 0.2");
  CHECK(parse_error("prune", "  budget: 1.5\n") ==
        "t.yaml:2: key 'prune.budget.fraction': expected a fraction in (0, 1], got 1.5");
  CHECK(parse_error("prune", "  compare: [flops, watts]\n")
            .find("t.yaml:2: key 'prune.compare[1]': unknown oracle 'watts'") == 0);
  CHECK(parse_error("prune", "  seed: -1\n") ==
        "t.yaml:2: key 'prune.seed': expected an integer >= 0, got '-1'");
}

TEST_CASE("SearchOptions::validate names the field") {
  search::SearchOptions o;
  o.oracle.budget_joules = 10.0;
  CHECK_NOTHROW(o.validate());
  SUBCASE("proxy.iterations") {
    o.proxy.iterations = 0;
    const FieldError e = field_error_of([&] { o.validate(); });
    CHECK(e.field() == "proxy.iterations");
    CHECK(std::string(e.what()) ==
          "search.proxy.iterations = 0: expected a value in [1, 1000000000]");
  }
  SUBCASE("a strategy option beside the search's own") {
    o.strategy_options.sample = o.strategy_options.population + 1;
    CHECK(field_error_of([&] { o.validate(); }).field() == "sample");
  }
  SUBCASE("batch") {
    o.batch = 0;
    CHECK(field_error_of([&] { o.validate(); }).field() == "batch");
  }
}

TEST_CASE("search recipe: rules reported at their keys") {
  CHECK(parse_error("search", "  proxy:\n    iterations: 0\n" + std::string(kSpace)) ==
        "t.yaml:3: key 'search.proxy.iterations': value 0 out of range [1, 1000000000]");
  CHECK(parse_error("search", "  population: 4\n  sample: 5\n" + std::string(kSpace)) ==
        "t.yaml:3: key 'search.sample': expected a tournament size in [1, population = 4], got 5");
  CHECK(parse_error("search", "  strategy: annealing\n" + std::string(kSpace))
            .find("t.yaml:2: key 'search.strategy': unknown strategy 'annealing'") == 0);
  // The space's own rules, at the space's keys.
  CHECK(
      parse_error("search",
                  "  space:\n    channels: {min: 0, max: 8, step: 4}\n    pooling: [max, max]\n") ==
      "t.yaml:3: key 'search.space.channels': value 0 out of range [1, 16384]");
  CHECK(parse_error("search", "  space:\n    pooling: [max, max]\n") ==
        "t.yaml:3: key 'search.space.pooling': 'max' appears twice");
  // No budget in the recipe: left to --budget-joules.
  CHECK(parse_error("search", kSpace).empty());
}

TEST_CASE("every shipped recipe passes its sections' rules") {
  const char* src = std::getenv("THOR_SOURCE_DIR");
  const std::filesystem::path dir = std::filesystem::path(src ? src : ".") / "recipes";
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    const std::string path = entry.path().string();
    INFO(path);
    ++n;
    const Recipe r = load_recipe(path);
    CHECK_NOTHROW(pruner::parse_prune_options(r));
    if (r.search.node.IsDefined() && !r.search.node.IsNull())
      CHECK_NOTHROW(search::parse_search_recipe(r));
  }
  CHECK(n >= 2);
}
