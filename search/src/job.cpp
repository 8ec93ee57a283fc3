#include "thor/search/job.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "thor/cluster.hpp"
#include "thor/error.hpp"
#include "thor/format.hpp"
#include "thor/profile_cache.hpp"
#include "thor/profiler.hpp"

namespace thor::search {

namespace fs = std::filesystem;

namespace {

// The most accurate feasible candidate's accuracy, energy or genome; "-" without one.
std::string best_accuracy(const SearchResult& r) {
  if (!r.best) return "-";
  std::ostringstream s;
  s << std::fixed << std::setprecision(4) << r.candidates[*r.best].accuracy;
  return s.str();
}
std::string best_joules(const SearchResult& r) {
  return r.best ? joules_text(r.candidates[*r.best].verdict.joules) : "-";
}
std::string best_genome(const SearchResult& r) {
  return r.best ? r.candidates[*r.best].genome.to_string() : "-";
}

void check_strategy(const std::string& name) {
  if (!strategies().contains(name))
    throw InputError("strategy '" + name +
                     "': unknown; registered strategies: " + strategies().known());
}

}  // namespace

void SearchJobOptions::validate() const {
  auto need = [](bool ok, const std::string& field, const std::string& value,
                 const std::string& rule) {
    if (!ok) throw InputError("search job: " + field + " = " + value + ": expected " + rule);
  };
  need(recipe.has_value() || !recipe_path.empty(), "recipe_path", "''",
       "a recipe file (or a loaded recipe)");
  if (budget_joules)
    need(std::isfinite(*budget_joules) && *budget_joules > 0, "budget_joules",
         number(*budget_joules), "a positive, finite number of joules");
  if (confidence)
    need(*confidence > 0 && *confidence < 1, "confidence", number(*confidence),
         "a probability in (0, 1), e.g. 0.95");
  if (candidates) need(*candidates >= 1, "candidates", std::to_string(*candidates), ">= 1");
  if (threads)
    need(*threads >= 1 && *threads <= 1024, "threads", std::to_string(*threads), "in [1, 1024]");
}

std::string to_string(SearchJobStatus status) {
  switch (status) {
    case SearchJobStatus::ok:
      return "ok";
    case SearchJobStatus::over_budget:
      return "over_budget";
    case SearchJobStatus::no_winner:
      return "no_winner";
  }
  return "?";
}

std::string SearchJobResult::one_line() const {
  std::string s = search.one_line();
  if (final_run)
    s += "; measured " + joules_text(final_run->measured_joules()) +
         (final_run->within_budget() ? ", within" : ", OVER") + " budget";
  return s;
}

std::string SearchJobResult::full_report() const {
  std::ostringstream s;
  s << scan_text << "\n" << search.full_report();
  if (comparison) {
    s << "\ncomparison (same budget, seed " << options.seed << ", " << options.candidates
      << " trained candidates):\n"
      << std::left << std::setw(24) << "strategy" << std::setw(11) << "best acc" << std::setw(12)
      << "est. energy" << std::setw(9) << "front" << std::setw(10) << "minutes"
      << "best architecture\n";
    for (const SearchResult* r : {&search, &*comparison})
      s << std::left << std::setw(24) << r->strategy << std::setw(11) << best_accuracy(*r)
        << std::setw(12) << best_joules(*r) << std::setw(9) << r->front.size() << std::setw(10)
        << std::fixed << std::setprecision(1) << r->seconds / 60 << best_genome(*r) << "\n";
  }
  if (final_run) {
    s << "\n" << final_run->full_report() << "wrote";
    for (const auto& f : files) s << " " << f;
    s << "\n";
  }
  return s.str();
}

namespace {

// The flags' overrides on the recipe's search settings, checked.
void apply_overrides(const SearchJobOptions& options, SearchRecipe& sr, const std::string& path) {
  SearchOptions& so = sr.options;
  if (options.budget_joules)
    so.oracle.budget_joules = *options.budget_joules;
  else if (!sr.budget_set)
    throw InputError("no budget: give --budget-joules J or search.budget_joules in " + path);
  if (options.confidence) so.oracle.confidence = *options.confidence;
  if (!options.strategy.empty()) so.strategy = options.strategy;
  if (options.candidates) so.candidates = *options.candidates;
  if (options.threads) so.threads = *options.threads;
  if (options.seed) so.seed = *options.seed;
  so.progress = options.progress;
  so.validate();
  check_strategy(so.strategy);
  if (!options.compare.empty()) check_strategy(options.compare);
}

// A profile that covers every structure of the space at its largest widths,
// made on the data and optimizer the candidates train with (ensure_profile).
DeviceProfile job_profile(const Recipe& recipe, const SearchSpace& space, const Dataset& train,
                          EnergyMeter& meter, bool progress, SearchJobResult& job) {
  auto say = [&](const std::string& line) {
    if (progress) std::cerr << "search: " << line << "\n" << std::flush;
  };
  std::vector<Architecture> largest;
  for (const Genome& g : space.skeletons()) largest.push_back(space.build(g));
  const ProfileRequest request =
      recipe_profile_request(recipe, std::move(largest), &train, job.profile_path, progress);
  const size_t structures = request.architectures.size();
  say("profile: " + std::to_string(structures) + " structure" + (structures == 1 ? "" : "s") +
      " of the space, each at its largest channel counts, with " + job.meter + "; cache " +
      job.profile_path);
  ProfileDecision decision = ensure_profile(request, meter);
  job.profile_reused = decision.reused;
  job.profile_reason = decision.reason;
  job.profile_measured = decision.measured;
  std::string profiled = "profile: " + decision.reason;
  if (!decision.reused)
    profiled += "; profiled (" + std::to_string(decision.measured) + " variant networks measured)";
  say(profiled);
  return std::move(decision.profile);
}

// "space: N points in S structures; P% within B J ...".
std::string scan_summary(const Oracle& oracle, const SearchSpace& space, const Estimator& estimator,
                         const SpaceScan& scan) {
  const OracleOptions& o = oracle.options();
  std::ostringstream scan_text;
  scan_text << std::fixed << std::setprecision(1) << "space: " << std::setprecision(0)
            << scan.points << " points in " << space.num_structures() << " structures; "
            << std::setprecision(1) << 100 * scan.feasible_share() << "% within "
            << joules_text(o.budget_joules)
            << (o.confidence > 0 ? " at confidence " + std::to_string(o.confidence) : "")
            << (scan.exhaustive ? "" : " (of a sample)") << " for " << o.iterations
            << " iterations; estimates span " << joules_text(scan.cheapest_joules) << " .. "
            << joules_text(scan.costliest_joules) << " ("
            << to_string(estimator.profile().settings.kind) << ")";
  return scan_text.str();
}

// The error for a budget no point of the space fits, naming the cheapest.
InputError unreachable(const Oracle& oracle, const SpaceScan& scan) {
  const OracleOptions& o = oracle.options();
  const Verdict v = oracle.check(scan.cheapest);
  return InputError(
      "budget " + joules_text(o.budget_joules) +
      " is unreachable: no architecture of the space fits it. The cheapest" +
      (scan.exhaustive ? "" : " of a sample of the space") + ", " + scan.cheapest.to_string() +
      ", is estimated at " + joules_text(v.joules) + " ± " + joules_text(v.std) + " for " +
      std::to_string(o.iterations) + " training iterations" +
      (o.confidence > 0 ? " (and must fit with probability " + std::to_string(o.confidence) + ")"
                        : "") +
      "; raise the budget or shrink the space");
}

// "regularized-evolution, 40 candidates, 8 per generation, ..." for the log.
std::string plan_text(const SearchOptions& so, int64_t train_size, int ranks) {
  const int64_t proxy_samples =
      std::min<int64_t>(so.proxy.train_limit < 0 ? train_size : so.proxy.train_limit, train_size);
  return so.strategy + ", " + std::to_string(so.candidates) + " candidates, " +
         std::to_string(so.batch) + " per generation, " + std::to_string(so.threads) + " at once" +
         (ranks > 1 ? " on each of " + std::to_string(ranks) + " ranks" : "") + ", proxy " +
         std::to_string(so.proxy.iterations) + " iterations on " + std::to_string(proxy_samples) +
         " samples";
}

}  // namespace

SearchJobResult run_search_job(const SearchJobOptions& options) {
  options.validate();
  // Under mpirun every rank runs the job; rank 0 alone profiles, meters,
  // prints and writes (docs/cluster.md).
  const Cluster& cluster = Cluster::world();
  const bool root = cluster.root();
  auto say = [&](const std::string& line) {
    if (options.progress && root) std::cerr << "search: " << line << "\n" << std::flush;
  };

  // 1. The recipe and the overrides, all checked before anything slow happens.
  const Recipe recipe = options.recipe ? *options.recipe : load_recipe(options.recipe_path);
  SearchRecipe sr = parse_search_recipe(recipe);
  SearchOptions& so = sr.options;
  apply_overrides(options, sr, recipe.path);
  so.progress = options.progress && root;

  SearchJobResult job;
  job.recipe = recipe.path;
  job.output = options.output.empty() ? recipe.output : options.output;
  job.profile_path = options.profile_path.empty() ? recipe.profile_path() : options.profile_path;
  const std::string meter_name = options.meter.empty() ? recipe.meter : options.meter;
  const fs::path output = job.output;
  const fs::path compare_dir = output / ("compare-" + options.compare);
  if (meter_name == "sim") register_sim_meter();
  std::unique_ptr<EnergyMeter> meter;
  if (root) meter = make_meter(meter_name, recipe.meter_options);
  job.meter = meter ? meter->describe() : "none (rank " + std::to_string(cluster.rank()) + ")";
  if (cluster.distributed()) say(cluster.describe());
  if (options.fresh && root) {
    fs::remove(output / "checkpoint.json");
    if (!options.compare.empty()) fs::remove(compare_dir / "checkpoint.json");
  }

  // 2. A profile that covers every structure of the space at its largest
  // widths, made on the data and optimizer the candidates train with.
  const auto [train, test] = load_recipe_data(recipe.data);
  const Estimator estimator(share_profile(
      [&] { return job_profile(recipe, sr.space, train, *meter, options.progress, job); }));

  // 3. The oracle, and what the budget leaves of the space.
  const Oracle oracle(estimator, sr.space, so.oracle);
  job.scan = oracle.scan(sr.scan_points, so.seed, so.threads);
  const SpaceScan& scan = job.scan;
  job.scan_text = scan_summary(oracle, sr.space, estimator, job.scan);
  say(job.scan_text);
  if (job.scan.feasible == 0) throw unreachable(oracle, job.scan);

  // 4. The search (and the comparison run).
  const Evaluator evaluate = make_training_evaluator(train, test, so.proxy, so.train);
  so.checkpoint = (output / "checkpoint.json").string();
  if (root) fs::create_directories(output);
  say(plan_text(so, train.size(), cluster.size()) + "; results in " + job.output);
  job.options = so;
  job.search = run_search(oracle, evaluate, so);
  if (!options.compare.empty()) {
    SearchOptions co = so;
    co.strategy = options.compare;
    co.checkpoint = (compare_dir / "checkpoint.json").string();
    if (root) fs::create_directories(compare_dir);
    job.comparison = run_search(oracle, evaluate, co);
    if (root) write_outputs(compare_dir.string(), oracle, *job.comparison, co, &scan, nullptr);
  }
  if (!root) {
    // The other ranks' part is done; they wait, idle, while rank 0 meters.
    cluster.barrier();
    job.message = "rank " + std::to_string(cluster.rank()) + ": evaluated its share of candidates";
    return job;
  }
  const SearchResult& result = job.search;
  if (!result.best) {
    job.files = write_outputs(job.output, oracle, result, so, &scan, nullptr);
    job.status = SearchJobStatus::no_winner;
    job.message = result.message;
    cluster.barrier();
    return job;
  }

  // 5. The winner: full run, measured.
  const std::string model_path = (output / "model.pt").string();
  say("measuring the winner with the protocol" +
      (options.final_train ? ", then training it for the full " +
                                 std::to_string(so.oracle.iterations) + " iterations"
                           : std::string()));
  job.final_run =
      run_final(oracle, result.candidates[*result.best].genome, *meter, recipe.measure, train, test,
                so.train, options.final_train, options.final_train ? model_path : "");
  const FinalRun& fin = *job.final_run;

  // 6. The outputs.
  job.files = write_outputs(job.output, oracle, result, so, &scan, &fin);
  if (options.final_train && fs::exists(model_path)) job.files.push_back(model_path);
  job.status = fin.within_budget() ? SearchJobStatus::ok : SearchJobStatus::over_budget;
  job.message = "the winner's measured energy, " + joules_text(fin.measured_joules()) + ", is " +
                (fin.within_budget() ? "within" : "over") + " the budget of " +
                joules_text(fin.budget_joules);
  cluster.barrier();
  return job;
}

}  // namespace thor::search
