// run_search_job: the whole job of the `search` program as one library call.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "thor/error.hpp"
#include "thor/search/job.hpp"
#include "thor_test_support.hpp"

using namespace thor::search;
namespace fs = std::filesystem;

namespace {

// tests/search/data/tiny_sim.yaml: 2 structures, sim meter, random data, 20 iterations.
std::string tiny_recipe() {
  const char* root = std::getenv("THOR_SOURCE_DIR");
  return (fs::path(root ? root : ".") / "tests/search/data/tiny_sim.yaml").string();
}

bool has_file(const SearchJobResult& r, const std::string& path) {
  for (const auto& f : r.files)
    if (fs::path(f) == fs::path(path)) return true;
  return false;
}

}  // namespace

TEST_CASE("SearchJobOptions::validate names the field, its value and the rule") {
  SearchJobOptions o;
  CHECK_THROWS_WITH_AS(o.validate(), doctest::Contains("recipe_path"), thor::InputError);
  o.recipe_path = tiny_recipe();
  CHECK_NOTHROW(o.validate());
  o.budget_joules = -5;
  CHECK_THROWS_WITH_AS(o.validate(), doctest::Contains("budget_joules = -5"), thor::InputError);
  o.budget_joules.reset();
  o.confidence = 1.5;
  CHECK_THROWS_WITH_AS(o.validate(), doctest::Contains("confidence = 1.5"), thor::InputError);
  o.confidence.reset();
  o.threads = 0;
  CHECK_THROWS_WITH_AS(o.validate(), doctest::Contains("threads = 0"), thor::InputError);
}

TEST_CASE("run_search_job: profiles once, searches, measures the winner and writes the outputs") {
  thor::testing::TempDir dir("search-job");
  SearchJobOptions o;
  o.recipe_path = tiny_recipe();
  o.output = dir.str("out");
  o.profile_path = dir.str("profile.json");
  o.progress = false;

  // First run: no cached profile, so the space is profiled and cached.
  const SearchJobResult first = run_search_job(o);
  REQUIRE_MESSAGE(first.status == SearchJobStatus::ok, first.message);
  CHECK(first.ok());
  CHECK_FALSE(first.profile_reused);
  CHECK(first.profile_measured > 0);
  CHECK(first.profile_reason.find("no cached profile") != std::string::npos);
  CHECK(fs::exists(o.profile_path));
  CHECK_FALSE(fs::exists(o.profile_path + ".journal"));
  REQUIRE(first.search.best);
  REQUIRE(first.final_run);
  CHECK(first.final_run->genome == first.search.candidates[*first.search.best].genome);
  CHECK(first.final_run->trained);
  CHECK(first.final_run->within_budget());
  CHECK(first.scan.feasible > 0);
  CHECK(first.scan_text.rfind("space: ", 0) == 0);
  for (const char* name : {"search.json", "best.yaml", "pareto.csv"}) {
    CHECK_MESSAGE(has_file(first, dir.str("out/" + std::string(name))), name);
    CHECK_MESSAGE(fs::exists(dir.str("out/" + std::string(name))), name);
  }
  const std::string report = first.full_report();
  CHECK(report.find(first.scan_text) == 0);
  CHECK(report.find("WITHIN budget as measured") != std::string::npos);
  CHECK(report.find("wrote ") != std::string::npos);
  CHECK(report.find("comparison") == std::string::npos);

  // Second run: the cached profile covers the space and was made under the
  // same settings, so it is reused; with a comparison and no full training.
  o.fresh = true;
  o.final_train = false;
  o.compare = "random";
  const SearchJobResult second = run_search_job(o);
  REQUIRE_MESSAGE(second.status == SearchJobStatus::ok, second.message);
  CHECK(second.profile_reused);
  CHECK(second.profile_measured == 0);
  CHECK(second.profile_reason.rfind("reusing", 0) == 0);
  CHECK(second.profile_reason.find(o.profile_path) != std::string::npos);
  REQUIRE(second.comparison);
  CHECK(second.comparison->strategy == "random");
  CHECK(fs::exists(dir.str("out/compare-random/search.json")));
  REQUIRE(second.final_run);
  CHECK_FALSE(second.final_run->trained);
  // The same seed gives the same search.
  CHECK(second.search.candidates[*second.search.best].genome ==
        first.search.candidates[*first.search.best].genome);
  CHECK(second.full_report().find("comparison (same budget") != std::string::npos);

  // Bad input is an InputError before the search starts.
  SearchJobOptions bad = o;
  bad.strategy = "annealing";
  CHECK_THROWS_WITH_AS(run_search_job(bad), doctest::Contains("strategy 'annealing': unknown"),
                       thor::InputError);
  bad = o;
  bad.budget_joules = 1e-6;
  CHECK_THROWS_WITH_AS(run_search_job(bad), doctest::Contains("is unreachable"), thor::InputError);
}
