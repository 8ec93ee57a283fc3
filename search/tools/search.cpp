// search: energy-budgeted architecture search. Finds the most accurate
// network of a search space whose full training run fits a joule budget,
// with the Estimator as the cost oracle; trains the winner for the full run
// and measures it. The job itself is thor::search::run_search_job.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "thor/cli.hpp"
#include "thor/cluster.hpp"
#include "thor/search/job.hpp"
#include "thor/search/strategy.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace thor::search;

namespace {

constexpr const char* kDefaultRecipe = "recipes/search_default.yaml";

// The default recipe: from the working folder, else from the source tree.
std::string default_recipe() {
  if (fs::exists(kDefaultRecipe)) return kDefaultRecipe;
#ifdef THOR_SOURCE_DIR
  const fs::path p = fs::path(THOR_SOURCE_DIR) / kDefaultRecipe;
  if (fs::exists(p)) return p.string();
#endif
  throw thor::InputError(std::string(kDefaultRecipe) +
                         ": not found; run from thor's folder or give --recipe R.yaml");
}

// A number from a flag's whole text, in the range `ok` accepts (boost would take "nan").
double number_flag(const std::string& text, bool (*ok)(double), const std::string& error) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && ok(v)) return v;
  } catch (const std::exception&) {
  }
  throw thor::InputError(error);
}

}  // namespace

int main(int argc, char** argv) {
  return thor::cli::run("search", [&]() -> int {
    po::options_description opts("Options");
    std::string budget_text, confidence_text;
    SearchJobOptions job;
    opts.add_options()("recipe", po::value(&job.recipe_path),
                       "recipe with a search: section (default recipes/search_default.yaml)")(
        "budget-joules", po::value(&budget_text),
        "joules allowed for the whole training run (overrides the recipe)")(
        "confidence", po::value(&confidence_text),
        "feasible only when P(energy <= budget) >= this, e.g. 0.95")(
        "strategy", po::value(&job.strategy),
        "random, regularized-evolution, nsga2, or a registered one")(
        "candidates", po::value<int64_t>(), "candidates to train")("threads", po::value<int>(),
                                                                   "candidates trained at once")(
        "seed", po::value<uint64_t>(), "search seed (the same seed gives the same search)")(
        "output", po::value(&job.output), "results folder (default: the recipe's output)")(
        "profile", po::value(&job.profile_path),
        "device profile JSON (default: the recipe's cache; made when missing)")(
        "meter", po::value(&job.meter),
        "meter for profiling and the final measurement (default: the recipe's)")(
        "compare", po::value(&job.compare),
        "also run this strategy with the same budget, seed and candidate count")(
        "no-final-train", "measure the winner with the protocol only; skip its full training run")(
        "fresh", "ignore a checkpoint in the output folder")(
        "list-strategies", "print the registered strategies and exit")("quiet",
                                                                       "no progress output")(
        "dry-run",
        "check everything, say what would happen and forecast its wall time and energy; "
        "write nothing");
    po::variables_map vm;
    if (!thor::cli::parse(argc, argv, "search",
                          "search --budget-joules J [--recipe R.yaml] [--strategy S] [--confidence "
                          "P] [--output DIR]\n"
                          "       search --recipe R.yaml [--compare random]",
                          opts, vm))
      return thor::cli::kExitOk;
    if (vm.count("list-strategies")) {
      for (const auto& n : strategies().names()) std::cout << n << "\n";
      return thor::cli::kExitOk;
    }
    // Flags are checked before anything slow happens.
    if (vm.count("budget-joules"))
      job.budget_joules = number_flag(
          budget_text, [](double v) { return std::isfinite(v) && v > 0; },
          "--budget-joules '" + budget_text +
              "': expected a positive number of joules, e.g. 10000");
    if (vm.count("confidence"))
      job.confidence = number_flag(
          confidence_text, [](double v) { return v > 0 && v < 1; },
          "--confidence '" + confidence_text + "': expected a probability in (0, 1), e.g. 0.95");
    if (vm.count("candidates")) job.candidates = vm["candidates"].as<int64_t>();
    if (vm.count("threads")) job.threads = vm["threads"].as<int>();
    if (vm.count("seed")) job.seed = vm["seed"].as<uint64_t>();
    job.final_train = vm.count("no-final-train") == 0;
    job.fresh = vm.count("fresh") > 0;
    job.progress = vm.count("quiet") == 0;
    if (job.recipe_path.empty()) job.recipe_path = default_recipe();
    if (vm.count("dry-run")) {
      std::cout << dry_run_search_job(job).report();
      return thor::cli::kExitOk;
    }
    const SearchJobResult result = run_search_job(job);
    if (!thor::Cluster::world().root()) return thor::cli::kExitOk;  // rank 0 reports
    std::cout << result.full_report();
    if (result.status == SearchJobStatus::no_winner) throw std::runtime_error(result.message);
    return thor::cli::kExitOk;
  });
}
