// run_pruning: the pruning loop in order (see thor/pruner/pruner.hpp); its
// parts live in baseline.cpp (data, baseline) and candidates.cpp (pool,
// oracle runs), its pure rules in selection.cpp, its report in report.cpp.
#include "thor/pruner/pruner.hpp"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "loop.hpp"
#include "plots.hpp"
#include "thor/cluster.hpp"
#include "thor/format.hpp"
#include "thor/profile_cache.hpp"
#include "thor/progress.hpp"
#include "thor/protocol.hpp"
#include "thor/run_log.hpp"

namespace fs = std::filesystem;

namespace thor::pruner {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Step 2: a profile covering the baseline over the whole pruning range,
// reused from the cache when ensure_profile's rules allow.
DeviceProfile profile_baseline(const Recipe& recipe, const PruneOptions& options,
                               const detail::DataSplit& data, EnergyMeter& meter,
                               const StagingFolder& staging, PruneResult& result,
                               const detail::Say& say, detail::ResumeState& resume) {
  const auto t0 = Clock::now();
  const bool default_cache = recipe.profile.cache.empty();
  const std::string path = recipe.profile_path();
  // The default cache is the output folder, written with it; until then a
  // profile made by this run (or an interrupted one) lives in the resume state.
  const bool resumed = default_cache && fs::exists(resume.profile_path());
  const RunLogContext logged("profiling");
  ProfileRequest request =
      recipe_profile_request(recipe, {recipe.model}, &data.train,
                             resumed ? resume.profile_path() : path, options.progress);
  request.save = !default_cache;
  // With the default cache the journal lives in the resume state, so that a
  // killed run's profiling resumes point by point.
  if (default_cache) request.profiler.journal_path = resume.profile_path() + ".journal";
  request.on_decision = say;
  ProfileDecision d = ensure_profile(request, meter);
  if (!d.reused) say(d.summary);
  if (!d.warning.empty()) result.warnings.push_back(d.warning);
  if (default_cache && !d.reused) d.profile.save(resume.profile_path());
  result.profile_reused = d.reused;
  result.profile_seconds = since(t0);
  d.profile.save(staging.file("profile.json"));
  result.profile_path = default_cache ? (fs::path(recipe.output) / "profile.json").string() : path;
  return std::move(d.profile);
}

// Step 6: the baseline and every pruned model measured with the same
// protocol, in the same rounds, and judged against the budget.
void measure_final(const Recipe& recipe, const PruneOptions& options, const detail::DataSplit& data,
                   EnergyMeter& meter, PruneResult& result, const detail::Say& say) {
  BaselineResult& b = result.baseline;
  std::vector<PrunedModelResult*> runs{&result.pruned};
  for (auto& c : result.compare) runs.push_back(&c);
  std::vector<Architecture> archs{recipe.model};
  const ChannelGroups groups = ChannelGroups::of(recipe.model);
  for (const auto* r : runs) archs.push_back(groups.apply(r->channels));
  const auto m =
      measure_interleaved(archs, meter, recipe.measure, TrainFeed{&data.train, recipe.train});
  b.measured_joules_per_iteration = m[0].joules_per_iteration;
  b.measured_cv = m[0].cv;
  b.measured_rounds = m[0].repeat_joules;
  result.budget_joules_per_iteration =
      options.budget.per_iteration(b.measured_joules_per_iteration, recipe.train.iterations);
  for (size_t i = 0; i < runs.size(); ++i) {
    PrunedModelResult& r = *runs[i];
    r.measured_joules_per_iteration = m[i + 1].joules_per_iteration;
    r.measured_cv = m[i + 1].cv;
    r.measured_rounds = m[i + 1].repeat_joules;
    std::vector<double> paired;
    for (size_t k = 0; k < r.measured_rounds.size() && k < b.measured_rounds.size(); ++k)
      paired.push_back(r.measured_rounds[k] / b.measured_rounds[k]);
    r.paired_energy_ratio = paired.empty() ? 0.0 : median(paired);
    r.measured_energy_ratio = r.measured_joules_per_iteration / b.measured_joules_per_iteration;
    r.within_budget = r.measured_joules_per_iteration <= result.budget_joules_per_iteration;
    say(strf("[%s] measured %.5g J/iter = %.1f%% of the baseline's %.5g (budget %.5g)%s",
             r.oracle.c_str(), r.measured_joules_per_iteration, 100.0 * r.measured_energy_ratio,
             b.measured_joules_per_iteration, result.budget_joules_per_iteration,
             r.within_budget ? "" : " — OVER THE BUDGET"));
  }
  const PrunedModelResult& p = result.pruned;
  result.status = p.within_budget ? PruneStatus::ok : PruneStatus::over_budget;
  result.message =
      p.within_budget
          ? strf(
                "the estimator-guided model uses %.1f%% of the baseline's energy per iteration, "
                "within the budget; accuracy %+.2f points",
                100.0 * p.measured_energy_ratio, 100.0 * (p.accuracy - b.accuracy))
          : strf("the estimator-guided model uses %.5g J/iter, over the budget of %.5g J/iter",
                 p.measured_joules_per_iteration, result.budget_joules_per_iteration);
}

}  // namespace

namespace detail {

ChannelGroups check_recipe(const Recipe& recipe, const PruneOptions& options) {
  options.validate();
  check_output_folder(recipe.output);
  recipe.train.validate();
  recipe.measure.validate();
  check_device(recipe.device);
  auto fail = [&](const std::string& msg) {
    if (!recipe.model_key.file.empty()) recipe.model_key.fail(msg);  // file:line: key 'model'
    throw InputError("model: " + msg);
  };
  if (recipe.model.channels().size() < 2)
    fail("pruning needs at least two parametric layers (the last one's outputs are the classes)");
  try {
    return ChannelGroups::of(recipe.model);
  } catch (const InputError& e) {
    fail(e.what());
  }
  throw std::logic_error("unreachable");
}

}  // namespace detail

PruneResult run_pruning(const Recipe& recipe, const PruneOptions& options) {
  const auto t0 = Clock::now();
  const ChannelGroups groups = detail::check_recipe(recipe, options);
  // Under mpirun every rank runs the loop; rank 0 alone meters, profiles and
  // writes, the others fine-tune their share of candidates (docs/cluster.md).
  const Cluster& cluster = Cluster::world();
  const bool root = cluster.root();
  if (recipe.meter == "sim") register_sim_meter();
  std::unique_ptr<EnergyMeter> meter;
  if (root) meter = logging_meter(make_meter(recipe.meter, recipe.meter_options));
  const detail::Say say = [&](const std::string& s) {
    if (options.progress && root) progress().say(s);
  };
  if (cluster.distributed()) say(cluster.describe());
  // Data first: a missing dataset must fail before anything is written.
  say("loading " + recipe.data.dataset + " from " + recipe.data.resolved_root());
  const detail::DataSplit data = detail::load_split(recipe, options);
  std::optional<StagingFolder> staging;
  if (root) staging.emplace(recipe.output);
  // Every meter window and estimate of the job, in the output folder.
  const auto run_log = open_run_log(staging ? staging->path().string() : "", "prune", meter.get());
  const ScopedRunLog logging(run_log.get());
  PruneResult result;
  result.recipe = recipe.path;
  result.output = recipe.output;
  result.meter = meter ? meter->describe() : "";
  result.meter_kind = meter ? to_string(meter->kind()) : "";
  result.strategy = options.strategy;
  result.budget = options.budget.describe(recipe.train.iterations);
  result.train_iterations = recipe.train.iterations;

  // 1-3. The baseline, a profile, the baseline's estimate.
  BaselineResult& b = result.baseline;
  detail::ResumeState resume(recipe, options);
  const Model baseline =
      detail::share_baseline(recipe, options, data, meter.get(), b, say,
                             root ? staging->file("baseline.ckpt") : std::string(), resume);
  const Estimator estimator(share_profile([&] {
    return profile_baseline(recipe, options, data, *meter, *staging, result, say, resume);
  }));
  const EstimateResult est = estimator.estimate(recipe.model);
  log_estimate("baseline", recipe.model.summary(), est, recipe.train.iterations);
  b.estimated_joules_per_iteration = est.joules_per_iteration;
  b.estimated_std = est.std;
  b.flops_joules_per_iteration = est.flops_joules;
  say(strf("baseline: estimated %.5g J/iter (GP), %.5g (FLOPs baseline); budget %s",
           est.joules_per_iteration, est.flops_joules, result.budget.c_str()));

  // 4-5. The loop, once per oracle, on one candidate pool.
  const detail::Context ctx{recipe,
                            options,
                            baseline,
                            groups,
                            b.channels,
                            data,
                            meter.get(),
                            estimator,
                            staging ? &*staging : nullptr,
                            est.joules_per_iteration,
                            result.warnings,
                            say,
                            &resume};
  std::vector<std::string> oracles{"estimator", "flops"};
  oracles.insert(oracles.end(), options.compare.begin(), options.compare.end());
  const detail::Pool pool = detail::make_pool(ctx, oracles);
  result.pruned = detail::run_oracle(ctx, pool, "estimator", true, 0);
  for (size_t i = 0; i < options.compare.size(); ++i)
    result.compare.push_back(
        detail::run_oracle(ctx, pool, options.compare[i], false, static_cast<int>(i) + 1));
  if (!root) {
    cluster.barrier();  // idle while rank 0 meters and writes
    result.message = "rank " + std::to_string(cluster.rank()) + ": fine-tuned its share";
    return result;
  }

  // 6-7. Final figures, plots, report, then the folder into place.
  say("measuring the baseline and the pruned models");
  {
    const ProgressPhase phase("final measurement", 0, options.progress);
    const RunLogContext logged("final");
    measure_final(recipe, options, data, *meter, result, say);
  }
  if (options.plots)
    result.plots = detail::write_plots(result, staging->path().string(), result.warnings);
  result.total_seconds = since(t0);
  write_file_atomic(staging->file("report.json"), result.to_json().dump(2) + "\n");
  run_log->commit();
  staging->commit();
  resume.finish();
  cluster.barrier();
  return result;
}

}  // namespace thor::pruner
