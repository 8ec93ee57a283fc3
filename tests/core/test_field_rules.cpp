// Option rules live in validate() only: FieldError names the field, and
// YamlCursor::validate_with reports it at the line of the recipe's key.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "thor/error.hpp"
#include "thor/recipe.hpp"
#include "thor/yaml_util.hpp"

using namespace thor;

namespace {

// The message of the InputError `f` throws ("" when it throws none).
template <class F>
std::string input_error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

const char* const kPrune =
    "name: t\n"              // 1
    "prune:\n"               // 2
    "  samples: 10\n"        // 3
    "  budget:\n"            // 4
    "    fraction: 1.5\n"    // 5
    "  compare: [flops,\n"   // 6
    "            watts]\n";  // 7

// A recipe file with this text, removed at the end of the test.
struct RecipeFile {
  std::filesystem::path path;
  explicit RecipeFile(const std::string& text, const std::string& name) {
    path = std::filesystem::temp_directory_path() / ("thor_field_rules_" + name + ".yaml");
    std::ofstream(path) << text;
  }
  ~RecipeFile() { std::filesystem::remove(path); }
  std::string load_error() const {
    return input_error_of([&] { load_recipe(path.string()); });
  }
};

const char* const kModel =
    "model:\n"
    "  input: [1, 28, 28]\n"
    "  layers:\n"
    "    - flatten\n"
    "    - linear: {out: 10}\n";

}  // namespace

TEST_CASE(
    "FieldError: what() reads on its own, detail() for a message that names the key elsewhere") {
  const FieldError e = FieldError::bad_value("samples", "0", "expected >= 1").in_scope("prune");
  CHECK(std::string(e.what()) == "prune.samples = 0: expected >= 1");
  CHECK(e.field() == "samples");
  CHECK(e.detail() == "expected >= 1, got 0");
  const FieldError nested = FieldError("iterations", "expected >= 1").under("proxy", "search");
  CHECK(std::string(nested.what()) == "search.proxy.iterations: expected >= 1");
  CHECK(nested.field() == "proxy.iterations");

  const FieldRules f("measure");
  CHECK(input_error_of([&] { f.number("min_window_seconds", -2.0, 0.0, 3600.0); }) ==
        "measure.min_window_seconds = -2: expected a value in [0, 3600]");
  try {
    f.count("repeats", 5000, 1, 1000);
    FAIL("expected a FieldError");
  } catch (const FieldError& e) {
    CHECK(e.field() == "repeats");
    CHECK(e.detail() == "value 5000 out of range [1, 1000]");
  }
  CHECK_NOTHROW(f.count("repeats", 1000, 1, 1000));
  CHECK_FALSE(input_error_of([&] { f.number("x", std::nan(""), 0.0, 1.0); }).empty());
}

TEST_CASE("validate_with: a FieldError is reported at its key's line") {
  const YamlCursor prune = load_yaml_text(kPrune, "t.yaml").child("prune");
  auto error_for = [&](const FieldError& e, const YamlCursor::Aliases& aliases = {}) {
    return input_error_of([&] { prune.validate_with([&] { throw e; }, aliases); });
  };
  SUBCASE("a nested key") {
    CHECK(error_for(
              FieldError::bad_value("budget.fraction", "1.5", "expected a fraction in (0, 1]")) ==
          "t.yaml:5: key 'prune.budget.fraction': expected a fraction in (0, 1], got 1.5");
  }
  SUBCASE("a list element") {
    CHECK(error_for(FieldError("compare[1]", "unknown oracle 'watts'")) ==
          "t.yaml:7: key 'prune.compare[1]': unknown oracle 'watts'");
  }
  SUBCASE("a key absent from the YAML: the section's line") {
    CHECK(error_for(FieldError::bad_value("band", "2", "expected a value in [0, 0.99]")) ==
          "t.yaml:3: key 'prune.band': expected a value in [0, 0.99], got 2");
  }
  SUBCASE("an absent key under a present one: the deepest present key's line") {
    CHECK(error_for(FieldError("budget.joules", "expected a positive number of joules")) ==
          "t.yaml:5: key 'prune.budget.joules': expected a positive number of joules");
  }
  SUBCASE("a field spelt otherwise in the recipe") {
    CHECK(error_for(FieldError("count", "expected >= 1"), {{"count", "samples"}}) ==
          "t.yaml:3: key 'prune.samples': expected >= 1");
    CHECK(error_for(FieldError("limits.budget.fraction", "bad"), {{"limits", ""}}) ==
          "t.yaml:5: key 'prune.budget.fraction': bad");
  }
  SUBCASE("another InputError: the section's line") {
    CHECK(input_error_of([&] {
            prune.validate_with([] { throw InputError("budget_joules = -3: too low"); });
          }) == "t.yaml:3: key 'prune': budget_joules = -3: too low");
  }
  SUBCASE("no error") {
    CHECK(input_error_of([&] { prune.validate_with([] {}); }).empty());
  }
  // Locating keys only reads the document (yaml-cpp's Node assignment would rewrite it).
  CHECK(prune.has("budget"));
  CHECK(prune.locate("budget.fraction").line() == 5);
  CHECK(prune.child("budget").child("fraction").as_double() == doctest::Approx(1.5));
}

TEST_CASE("typed getters check types only") {
  const YamlCursor c = load_yaml_text("a: 5\nb: x\nc: -1\nd: 1.5\ne: 3000000000\n", "g.yaml");
  CHECK(c.get_int("a", 0) == 5);
  CHECK(c.get_int("zz", 7) == 7);
  CHECK(input_error_of([&] { c.get_int("b", 0); }) ==
        "g.yaml:2: key 'b': expected an integer, got 'x'");
  CHECK(input_error_of([&] { c.get_uint("c", 0); }) ==
        "g.yaml:3: key 'c': expected an integer >= 0, got '-1'");
  CHECK(c.get_uint("a", 0) == 5u);
  CHECK(c.get_double("d", 0.0) == doctest::Approx(1.5));
  CHECK(input_error_of([&] { c.get_int32("e", 0); }) ==
        "g.yaml:5: key 'e': expected a 32-bit integer, got 3000000000");
}

TEST_CASE("recipe: each rule checked by a validate(), reported at its key") {
  SUBCASE("train.lr (TrainOptions::validate)") {
    const RecipeFile r(std::string(kModel) + "train:\n  lr: 20\n", "lr");
    CHECK(r.load_error() ==
          r.path.string() + ":7: key 'train.lr': value 20 out of range [1e-08, 10]");
  }
  SUBCASE("train.iterations: 0 is a valid TrainOptions, but not a recipe's run") {
    TrainOptions t;
    t.iterations = 0;
    CHECK_NOTHROW(t.validate());
    const RecipeFile r(std::string(kModel) + "train: {iterations: 0}\n", "iterations");
    CHECK(r.load_error() ==
          r.path.string() + ":6: key 'train.iterations': value 0 out of range [1, inf]");
  }
  SUBCASE("profile keys of the measurement protocol (MeasureOptions::validate, renamed)") {
    const RecipeFile r(std::string(kModel) + "profile:\n  max_points: 4\n  min_window: 4000\n",
                       "min_window");
    CHECK(r.load_error() ==
          r.path.string() + ":8: key 'profile.min_window': value 4000 out of range [0, 3600]");
  }
  SUBCASE("measure.repeats") {
    const RecipeFile r(std::string(kModel) + "measure: {repeats: 0}\n", "repeats");
    CHECK(r.load_error() ==
          r.path.string() + ":6: key 'measure.repeats': value 0 out of range [1, 1000]");
  }
  SUBCASE("meter options") {
    const RecipeFile r(std::string(kModel) + "meter:\n  name: cpu-model\n  core_watts: 0\n",
                       "meter");
    CHECK(r.load_error() ==
          r.path.string() + ":8: key 'meter.core_watts': value 0 out of range [1e-06, 10000]");
  }
  SUBCASE("data and device") {
    const RecipeFile d(std::string(kModel) + "data: {dataset: cifar}\n", "data");
    CHECK(d.load_error() == d.path.string() +
                                ":6: key 'data.dataset': expected fashion-mnist, mnist, celeba, "
                                "har, har-generated or random, got 'cifar'");
    const RecipeFile v("device: tpu\n" + std::string(kModel), "device");
    CHECK(v.load_error() == v.path.string() + ":1: key 'device': expected cpu or cuda, got 'tpu'");
  }
  SUBCASE("a good recipe loads") {
    const RecipeFile r(
        std::string(kModel) + "train: {lr: 0.1, iterations: 5}\nprofile: {min_window: 0}\n",
        "good");
    CHECK(r.load_error().empty());
  }
}

TEST_CASE("API: hand-built options fail validate() naming the field") {
  MeasureOptions m;
  m.repeats = 0;
  CHECK(input_error_of([&] { m.validate(); }) ==
        "measure.repeats = 0: expected a value in [1, 1000]");
  ProfileSpec p;
  p.measure.warmup = -1;
  try {
    p.validate();
    FAIL("expected a FieldError");
  } catch (const FieldError& e) {
    CHECK(e.field() == "measure.warmup");
    CHECK(std::string(e.what()) == "profile.measure.warmup = -1: expected a value in [0, inf]");
  }
  DataSpec d;
  d.image_size = 2;
  CHECK(input_error_of([&] { d.validate(); }) ==
        "data.image_size = 2: expected a value in [4, 1024]");
}
