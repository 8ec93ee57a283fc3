// search: energy-budgeted architecture search. Finds the most accurate
// network of a search space whose full training run fits a joule budget,
// with the Estimator as the cost oracle; trains the winner for the full run
// and measures it.
#include <algorithm>
#include <cmath>
#include <optional>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <thread>

#include "thor/cli.hpp"
#include "thor/io.hpp"
#include "thor/profiler.hpp"
#include "thor/recipe.hpp"
#include "thor/search/search.hpp"

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
  throw thor::InputError(std::string(kDefaultRecipe) + ": not found; run from thor's folder or give --recipe R.yaml");
}

// A strictly positive, finite number from a flag (boost would take "nan").
double positive_flag(const std::string& flag, const std::string& text) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v) && v > 0) return v;
  } catch (const std::exception&) {
  }
  throw thor::InputError("--" + flag + " '" + text + "': expected a positive number of joules, e.g. 10000");
}

// Whether `profile` has a model for every block of every structure, over the channel range the space needs.
bool covers(const thor::DeviceProfile& profile, const SearchSpace& space, std::string* missing) {
  for (const Genome& g : space.skeletons()) {
    for (const auto& blk : thor::split_blocks(space.build(g))) {
      auto it = profile.kinds.find(blk.key);
      bool ok = it != profile.kinds.end() && it->second.upper.size() == blk.features.size();
      for (size_t i = 0; ok && i < blk.features.size(); ++i)
        ok = static_cast<double>(it->second.upper[i]) >= blk.features[i];
      if (!ok) {
        *missing = blk.key;
        return false;
      }
    }
  }
  return true;
}

std::string fmt_joules(double j) {
  std::ostringstream s;
  if (std::fabs(j) >= 100) s << std::fixed << std::setprecision(0) << j << " J";
  else s << std::setprecision(3) << j << " J";
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  return thor::cli::run("search", [&]() -> int {
    po::options_description opts("Options");
    std::string recipe_path, budget_text, strategy, output, profile_path, meter_name, compare, confidence_text;
    opts.add_options()
      ("recipe", po::value(&recipe_path), "recipe with a search: section (default recipes/search_default.yaml)")
      ("budget-joules", po::value(&budget_text), "joules allowed for the whole training run (overrides the recipe)")
      ("confidence", po::value(&confidence_text), "feasible only when P(energy <= budget) >= this, e.g. 0.95")
      ("strategy", po::value(&strategy), "random, regularized-evolution, nsga2, or a registered one")
      ("candidates", po::value<int64_t>(), "candidates to train")
      ("threads", po::value<int>(), "candidates trained at once")
      ("seed", po::value<uint64_t>(), "search seed (the same seed gives the same search)")
      ("output", po::value(&output), "results folder (default: the recipe's output)")
      ("profile", po::value(&profile_path), "device profile JSON (default: the recipe's cache; made when missing)")
      ("meter", po::value(&meter_name), "meter for profiling and the final measurement (default: the recipe's)")
      ("compare", po::value(&compare), "also run this strategy with the same budget, seed and candidate count")
      ("no-final-train", "measure the winner with the protocol only; skip its full training run")
      ("fresh", "ignore a checkpoint in the output folder")
      ("list-strategies", "print the registered strategies and exit")
      ("quiet", "no progress output");
    po::variables_map vm;
    if (!thor::cli::parse(argc, argv, "search",
                          "search --budget-joules J [--recipe R.yaml] [--strategy S] [--confidence P] [--output DIR]\n"
                          "       search --recipe R.yaml [--compare random]",
                          opts, vm))
      return 0;
    register_builtin_strategies();
    thor::register_builtin_meters();
    if (vm.count("list-strategies")) {
      for (const auto& n : strategy_names()) std::cout << n << "\n";
      return 0;
    }
    const bool quiet = vm.count("quiet") > 0;
    // Flags are checked before anything slow happens.
    double budget = 0;
    if (vm.count("budget-joules")) budget = positive_flag("budget-joules", budget_text);
    double confidence = -1;
    if (vm.count("confidence")) {
      try {
        size_t used = 0;
        confidence = std::stod(confidence_text, &used);
        if (used != confidence_text.size() || !(confidence > 0 && confidence < 1)) throw std::invalid_argument("");
      } catch (const std::exception&) {
        throw thor::InputError("--confidence '" + confidence_text + "': expected a probability in (0, 1), e.g. 0.95");
      }
    }
    if (recipe_path.empty()) recipe_path = default_recipe();
    const thor::Recipe recipe = thor::load_recipe(recipe_path);
    SearchRecipe sr = parse_search_recipe(recipe);
    SearchOptions& so = sr.options;
    if (budget > 0) so.oracle.budget_joules = budget;
    else if (!sr.budget_set)
      throw thor::InputError("no budget: give --budget-joules J or search.budget_joules in " + recipe_path);
    if (confidence >= 0) so.oracle.confidence = confidence;
    if (!strategy.empty()) so.strategy = strategy;
    if (vm.count("candidates")) so.candidates = vm["candidates"].as<int64_t>();
    if (vm.count("threads")) so.threads = vm["threads"].as<int>();
    if (vm.count("seed")) so.seed = vm["seed"].as<uint64_t>();
    so.progress = !quiet;
    so.validate();
    const auto names = strategy_names();
    for (const std::string& s : {so.strategy, compare})
      if (!s.empty() && std::find(names.begin(), names.end(), s) == names.end()) {
        std::string known;
        for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
        throw thor::InputError("strategy '" + s + "': unknown; registered strategies: " + known);
      }
    if (output.empty()) output = recipe.output;
    if (meter_name.empty()) meter_name = recipe.meter;
    if (meter_name == "sim") thor::register_sim_meter();
    if (vm.count("fresh")) {
      fs::remove(fs::path(output) / "checkpoint.json");
      if (!compare.empty()) fs::remove(fs::path(output) / ("compare-" + compare) / "checkpoint.json");
    }

    // 1. A profile that covers every structure of the space.
    if (profile_path.empty()) profile_path = recipe.profile_path();
    std::unique_ptr<thor::EnergyMeter> meter;
    std::optional<thor::DeviceProfile> profile;
    std::string missing;
    // The data first: profiling variants train on it, as the real run will.
    const auto [train, test] = thor::load_recipe_data(recipe.data);
    if (fs::exists(profile_path)) {
      profile = thor::DeviceProfile::load(profile_path);
      if (!covers(*profile, sr.space, &missing)) {
        if (!quiet)
          std::cerr << "search: " << profile_path << " does not cover the space (" << missing << "); profiling again\n";
        profile.reset();
      } else if (profile->settings.data != thor::feed_name(thor::TrainFeed{&train, recipe.train}, recipe.model.input) ||
                 profile->settings.lr != recipe.train.lr || profile->settings.optimizer != recipe.train.optimizer) {
        if (!quiet)
          std::cerr << "search: " << profile_path << " was made on other data or another optimizer ("
                    << profile->settings.data << ", " << profile->settings.optimizer << " lr " << profile->settings.lr
                    << "); profiling again\n";
        profile.reset();
      }
    }
    const std::vector<Genome> skeletons = sr.space.skeletons();
    if (!profile) {
      meter = thor::make_meter(meter_name, recipe.meter_options);
      thor::ProfilerOptions po = thor::profiler_options(recipe);
      po.feed.data = &train;
      po.journal_path = profile_path + ".journal";
      po.progress = !quiet;
      std::vector<thor::Architecture> archs;
      for (const auto& g : skeletons) archs.push_back(sr.space.build(g));
      if (!quiet)
        std::cerr << "search: profiling the " << archs.size() << " structures of the space at their largest channel "
                  << "counts with " << meter->describe() << " (once; cached in " << profile_path << ")\n";
      profile = thor::run_profiler(archs, *meter, recipe.meter_options, po).profile;
      profile->save(profile_path);
      fs::remove(po.journal_path);
    }
    const thor::Estimator estimator(std::move(*profile));

    // 2. The oracle, and what the budget leaves of the space.
    const Oracle oracle(estimator, sr.space, so.oracle);
    const SpaceScan scan = oracle.scan(sr.scan_points, so.seed, so.threads);
    std::ostringstream scan_text;
    scan_text << std::fixed << std::setprecision(1) << "space: " << std::setprecision(0) << scan.points << " points in "
              << sr.space.num_structures() << " structures; " << std::setprecision(1) << 100 * scan.feasible_share()
              << "% within " << fmt_joules(so.oracle.budget_joules)
              << (so.oracle.confidence > 0 ? " at confidence " + std::to_string(so.oracle.confidence) : "")
              << (scan.exhaustive ? "" : " (of a sample)") << " for " << so.oracle.iterations
              << " iterations; estimates span " << fmt_joules(scan.cheapest_joules) << " .. "
              << fmt_joules(scan.costliest_joules) << " ("
              << thor::to_string(estimator.profile().settings.kind) << ")";
    if (!quiet) std::cerr << "search: " << scan_text.str() << "\n";
    if (scan.feasible == 0) {
      const auto v = oracle.check(scan.cheapest);
      throw thor::InputError(
          "budget " + fmt_joules(so.oracle.budget_joules) + " is unreachable: no architecture of the space fits it. " +
          "The cheapest" + (scan.exhaustive ? "" : " of a sample of the space") + ", " + scan.cheapest.to_string() +
          ", is estimated at " + fmt_joules(v.joules) + " ± " + fmt_joules(v.std) + " for " +
          std::to_string(so.oracle.iterations) + " training iterations" +
          (so.oracle.confidence > 0 ? " (and must fit with probability " + std::to_string(so.oracle.confidence) + ")"
                                    : "") +
          "; raise the budget or shrink the space");
    }

    // 3. The search (and the comparison run).
    const Evaluator evaluate = make_training_evaluator(train, test, so.proxy, so.train);
    so.checkpoint = (fs::path(output) / "checkpoint.json").string();
    fs::create_directories(output);
    if (!quiet)
      std::cerr << "search: " << so.strategy << ", " << so.candidates << " candidates, " << so.batch
                << " per generation, " << so.threads << " at once, proxy " << so.proxy.iterations
                << " iterations on " << std::min<int64_t>(so.proxy.train_limit < 0 ? train.size() : so.proxy.train_limit, train.size())
                << " samples; results in " << output << "\n";
    const SearchResult result = run_search(oracle, evaluate, so);
    std::cout << scan_text.str() << "\n" << result.full_report();

    std::optional<SearchResult> other;
    if (!compare.empty()) {
      SearchOptions co = so;
      co.strategy = compare;
      co.checkpoint = (fs::path(output) / ("compare-" + compare) / "checkpoint.json").string();
      fs::create_directories(fs::path(co.checkpoint).parent_path());
      other = run_search(oracle, evaluate, co);
      write_outputs(fs::path(co.checkpoint).parent_path().string(), oracle, *other, co, &scan, nullptr);
      auto best_of = [](const SearchResult& r, const char* what) -> std::string {
        if (!r.best) return "-";
        const auto& c = r.candidates[*r.best];
        std::ostringstream s;
        s << std::fixed;
        if (std::string(what) == "acc") s << std::setprecision(4) << c.accuracy;
        else if (std::string(what) == "j") s << fmt_joules(c.verdict.joules);
        else s << c.genome.to_string();
        return s.str();
      };
      std::cout << "\ncomparison (same budget, seed " << so.seed << ", " << so.candidates << " trained candidates):\n"
                << std::left << std::setw(24) << "strategy" << std::setw(11) << "best acc" << std::setw(12)
                << "est. energy" << std::setw(9) << "front" << std::setw(10) << "minutes" << "best architecture\n";
      for (const SearchResult* r : std::vector<const SearchResult*>{&result, &*other})
        std::cout << std::left << std::setw(24) << r->strategy << std::setw(11) << best_of(*r, "acc") << std::setw(12)
                  << best_of(*r, "j") << std::setw(9) << r->front.size() << std::setw(10) << std::fixed
                  << std::setprecision(1) << r->seconds / 60 << best_of(*r, "g") << "\n";
    }
    if (!result.best) {
      write_outputs(output, oracle, result, so, &scan, nullptr);
      throw std::runtime_error(result.message);
    }

    // 4. The winner: full run, measured.
    if (!meter) meter = thor::make_meter(meter_name, recipe.meter_options);
    const bool full = vm.count("no-final-train") == 0;
    if (!quiet)
      std::cerr << "search: measuring the winner with the protocol" << (full ? ", then training it for the full "
                   + std::to_string(so.oracle.iterations) + " iterations" : "") << "\n";
    const FinalRun fin = run_final(oracle, result.candidates[*result.best].genome, *meter, recipe.measure, train,
                                   test, so.train, full, full ? (fs::path(output) / "model.pt").string() : "");
    const bool have_model = full && fs::exists(fs::path(output) / "model.pt");
    std::cout << "\n" << fin.full_report();
    const auto files = write_outputs(output, oracle, result, so, &scan, &fin);
    std::cout << "wrote";
    for (const auto& f : files) std::cout << " " << f;
    std::cout << (have_model ? " " + (fs::path(output) / "model.pt").string() : "") << "\n";
    return 0;
  });
}
