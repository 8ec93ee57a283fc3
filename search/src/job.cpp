#include "thor/search/job.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>

#include "thor/cluster.hpp"
#include "thor/error.hpp"
#include "thor/format.hpp"
#include "thor/io.hpp"
#include "thor/profile_cache.hpp"
#include "thor/profiler.hpp"
#include "thor/progress.hpp"
#include "thor/protocol.hpp"
#include "thor/run_log.hpp"

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
    if (progress) thor::progress().say(line);
  };
  std::vector<Architecture> largest;
  for (const Genome& g : space.skeletons()) largest.push_back(space.build(g));
  const RunLogContext logged("profiling");
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
  if (!decision.reused) profiled += "; " + decision.summary;
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

// What the oracle said each trained candidate's full run costs.
// The result's paths: the flags' or the recipe's.
static SearchJobResult new_job(const SearchJobOptions& options, const Recipe& recipe) {
  SearchJobResult job;
  job.recipe = recipe.path;
  job.output = options.output.empty() ? recipe.output : options.output;
  job.profile_path = options.profile_path.empty() ? recipe.profile_path() : options.profile_path;
  return job;
}

// The run log into place beside the outputs, and the job's verdict.
static void finish_job(SearchJobResult& job, RunLog& run_log) {
  run_log.commit();
  job.files.push_back(run_log.csv_path());
  job.files.push_back(run_log.jsonl_path());
  const FinalRun& fin = *job.final_run;
  job.status = fin.within_budget() ? SearchJobStatus::ok : SearchJobStatus::over_budget;
  job.message = "the winner's measured energy, " + joules_text(fin.measured_joules()) + ", is " +
                (fin.within_budget() ? "within" : "over") + " the budget of " +
                joules_text(fin.budget_joules);
}

static void log_candidates(const SearchResult& result, int64_t iterations) {
  for (const Candidate& c : result.candidates) {
    if (!c.trained) continue;
    RunRecord rec;
    rec.what = "candidate";
    rec.subject = c.genome.to_string();
    rec.source = "estimated";
    rec.iterations = iterations;
    rec.energy_J = c.verdict.joules;
    if (c.verdict.joules > 0) rec.spread = c.verdict.std / c.verdict.joules;
    log_run_record(rec);
  }
}

SearchJobResult run_search_job(const SearchJobOptions& options) {
  options.validate();
  // Under mpirun every rank runs the job; rank 0 alone profiles, meters,
  // prints and writes (docs/cluster.md).
  const Cluster& cluster = Cluster::world();
  const bool root = cluster.root();
  auto say = [&](const std::string& line) {
    if (options.progress && root) progress().say(line);
  };

  // 1. The recipe and the overrides, all checked before anything slow happens.
  const Recipe recipe = options.recipe ? *options.recipe : load_recipe(options.recipe_path);
  SearchRecipe sr = parse_search_recipe(recipe);
  SearchOptions& so = sr.options;
  apply_overrides(options, sr, recipe.path);
  so.progress = options.progress && root;

  SearchJobResult job = new_job(options, recipe);
  const std::string meter_name = options.meter.empty() ? recipe.meter : options.meter;
  if (root) check_output_folder(job.output);
  const fs::path output = job.output;
  const fs::path compare_dir = output / ("compare-" + options.compare);
  if (meter_name == "sim") register_sim_meter();
  std::unique_ptr<EnergyMeter> meter;
  if (root) meter = logging_meter(make_meter(meter_name, recipe.meter_options));
  job.meter = meter ? meter->describe() : "none (rank " + std::to_string(cluster.rank()) + ")";
  if (cluster.distributed()) say(cluster.describe());
  const auto run_log = open_run_log(job.output, "search", meter.get());
  const ScopedRunLog logging(run_log.get());
  if (options.fresh && root) {
    fs::remove(output / "checkpoint.json");
    if (!options.compare.empty()) fs::remove(compare_dir / "checkpoint.json");
  }

  // 2. A profile that covers every structure of the space at its largest widths, made
  // on the data (shaped for the space's input) and optimizer the candidates train with.
  const auto [train, test] = load_recipe_data(recipe.data, sr.space.input);
  const Dataset& train_set = train;  // C++17 lambdas cannot capture a structured binding (clang)
  const Estimator estimator(share_profile(
      [&] { return job_profile(recipe, sr.space, train_set, *meter, options.progress, job); }));

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
  log_candidates(result, so.oracle.iterations);
  if (!result.best) {
    job.files = write_outputs(job.output, oracle, result, so, &scan, nullptr);
    run_log->commit();
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
  const RunLogContext final_context("final");
  job.final_run =
      run_final(oracle, result.candidates[*result.best].genome, *meter, recipe.measure, train, test,
                so.train, options.final_train, options.final_train ? model_path : "");
  const FinalRun& fin = *job.final_run;

  // 6. The outputs.
  job.files = write_outputs(job.output, oracle, result, so, &scan, &fin);
  if (fs::exists(model_path)) job.files.push_back(model_path);
  finish_job(job, *run_log);
  cluster.barrier();
  return job;
}

DryRunPlan dry_run_search_job(const SearchJobOptions& options) {
  options.validate();
  DryRunPlan plan;
  plan.program = "search";
  const Recipe recipe = options.recipe ? *options.recipe : load_recipe(options.recipe_path);
  SearchRecipe sr = parse_search_recipe(recipe);
  SearchOptions& so = sr.options;
  apply_overrides(options, sr, recipe.path);
  plan.checks.push_back("recipe " + recipe.path + ": every key valid, the space included");
  const std::string meter_name = options.meter.empty() ? recipe.meter : options.meter;
  if (meter_name == "sim") register_sim_meter();
  const auto meter = make_meter(meter_name, recipe.meter_options);
  plan.checks.push_back("meter " + meter->describe() + " (" + to_string(meter->kind()) + ")");
  const auto [train, test] = load_recipe_data(recipe.data, sr.space.input);
  plan.checks.push_back(strf("data %s: %lld training, %lld test samples",
                             recipe.data.dataset.c_str(), (long long)train.size(),
                             (long long)test.size()));
  const std::string output = options.output.empty() ? recipe.output : options.output;
  const fs::path out = output;
  check_output_folder(output);
  plan.checks.push_back("output " + output + ": can be created and written");

  std::vector<Architecture> largest;
  for (const Genome& g : sr.space.skeletons()) largest.push_back(sr.space.build(g));
  const std::string profile_path =
      options.profile_path.empty() ? recipe.profile_path() : options.profile_path;
  const ProfileRequest request =
      recipe_profile_request(recipe, largest, &train, profile_path, false);
  const ProfileDecision d = decide_profile(request, *meter);
  plan.notes.push_back("profile: " + d.reason);
  if (d.reused) {
    const Estimator estimator(d.profile);
    const Oracle oracle(estimator, sr.space, so.oracle);
    plan.notes.push_back(scan_summary(oracle, sr.space, estimator,
                                      oracle.scan(sr.scan_points, so.seed, so.threads)));
  }
  if (!options.fresh && fs::exists(out / "checkpoint.json"))
    plan.notes.push_back("a checkpoint is in " + output +
                         ": candidates it holds for these settings are not trained again");
  plan.notes.push_back(plan_text(so, train.size(), 1));

  // The typical candidate: half the largest network's work per iteration.
  const PaceModel pace = measure_pace(largest.front(), *meter, TrainFeed{&train, recipe.train},
                                      recipe.measure.threads);
  plan.watts = pace.watts;
  plan.energy_kind = to_string(pace.kind);
  plan.warn_if_busy(pace.foreign_load, recipe.measure.busy_cores, recipe.measure.busy_retries);
  double big = 0.0;
  for (const auto& a : largest) big = std::max(big, pace.seconds_per_iteration(a));
  const double typical = pace.overhead_s + 0.5 * (big - pace.overhead_s);
  if (!d.reused) {
    const auto [lo, hi] = forecast_profiling(request, pace);
    plan.steps.push_back(
        {strf("profiling (%zu structures at their largest widths)", largest.size()), lo, hi});
  }
  const int runs = options.compare.empty() ? 1 : 2;
  const double rounds = std::ceil(static_cast<double>(so.candidates) / std::max(1, so.threads));
  const double cand = rounds * static_cast<double>(so.proxy.iterations) * typical;
  plan.steps.push_back({strf("%d × %lld candidates, %lld proxy iterations each, %d at once", runs,
                             (long long)so.candidates, (long long)so.proxy.iterations, so.threads),
                        0.5 * runs * cand, runs * cand});
  double fin = pace.measure_seconds(largest.front(), recipe.measure) * typical / big;
  if (options.final_train) fin += static_cast<double>(so.oracle.iterations) * typical;
  plan.steps.push_back(
      {"the winner measured" + std::string(options.final_train ? " and trained in full" : ""), fin,
       fin});
  return plan;
}

}  // namespace thor::search
