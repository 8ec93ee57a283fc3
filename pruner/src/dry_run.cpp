// dry_run_pruning: what `prune --recipe R --dry-run` checks, plans and
// forecasts (thor/dry_run.hpp). Nothing here writes a file.
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "loop.hpp"
#include "thor/format.hpp"
#include "thor/io.hpp"
#include "thor/profile_cache.hpp"
#include "thor/protocol.hpp"
#include "thor/pruner/pruner.hpp"

namespace fs = std::filesystem;

namespace thor::pruner {

namespace {

// Seconds one accuracy evaluation takes per sample, timed on a few batches.
double eval_seconds_per_sample(const Architecture& arch, const Dataset& test) {
  const Model m(arch, 1, "cpu");
  const int64_t n = std::min<int64_t>(test.size(), 1000);
  const auto t0 = std::chrono::steady_clock::now();
  (void)m.accuracy(test, n);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
         static_cast<double>(std::max<int64_t>(1, n));
}

// What the loop will do, in one line.
std::string loop_text(const Recipe& recipe, const PruneOptions& options, int64_t oracles) {
  return strf(
      "%lld configurations proposed by '%s'; per oracle (%lld: estimator%s) %lld candidates "
      "fine-tuned %lld iterations each, up to %lld verified, the winner fine-tuned %lld "
      "iterations; budget %s",
      (long long)options.samples, options.strategy.c_str(), (long long)oracles,
      options.compare.empty() ? "" : (", " + join(options.compare)).c_str(),
      (long long)options.candidates, (long long)options.short_finetune, (long long)options.verify,
      (long long)options.final_finetune, options.budget.describe(recipe.train.iterations).c_str());
}

// The channel groups, in one line: "3 channel groups: conv@0 + residual@3,4 (16); ...".
std::string groups_text(const ChannelGroups& groups) {
  std::string listed;
  for (const auto& g : groups.groups())
    listed += (listed.empty() ? "" : "; ") + g.describe(groups.architecture()) + " (" +
              std::to_string(g.width) + (g.multiple > 1 ? ", ×" + std::to_string(g.multiple) : "") +
              ")";
  return strf("%zu channel groups: %s", groups.size(), listed.c_str());
}

// Calibration and verification: each measures the baseline and pruned
// networks (about `share` of its cost each) in the same rounds.
void measurement_steps(DryRunPlan& plan, const Recipe& recipe, const PruneOptions& options,
                       const PaceModel& pace, double share) {
  const double round = pace.measure_seconds(recipe.model, recipe.measure);
  if (options.verify > 0 && options.calibrate > 0) {
    const double calib = (1.0 + options.calibrate * share) * round;
    plan.steps.push_back(
        {strf("calibration (%lld configurations with the baseline)", (long long)options.calibrate),
         calib, calib});
  }
  const double verify_one = (1.0 + share) * round;
  const int64_t verify_n = std::min(options.verify, options.candidates);
  if (verify_n > 0)
    plan.steps.push_back(
        {strf("verification (1 to %lld candidates, with the baseline)", (long long)verify_n),
         verify_one, verify_n * verify_one});
}

}  // namespace

DryRunPlan dry_run_pruning(const Recipe& recipe, const PruneOptions& options) {
  DryRunPlan plan;
  plan.program = "prune";
  const ChannelGroups groups = detail::check_recipe(recipe, options);
  plan.checks.push_back("recipe " + recipe.path + ": every key valid");
  plan.checks.push_back(groups_text(groups));
  if (recipe.meter == "sim") register_sim_meter();
  auto meter = make_meter(recipe.meter, recipe.meter_options);
  plan.checks.push_back("meter " + meter->describe() + " (" + to_string(meter->kind()) + ")");
  const detail::DataSplit data = detail::load_split(recipe, options);
  plan.checks.push_back(strf("data %s: %lld training, %lld validation, %lld test samples",
                             recipe.data.dataset.c_str(), (long long)data.train.size(),
                             (long long)data.validation.size(), (long long)data.test.size()));
  if (!options.checkpoint.empty())
    (void)Model::load(options.checkpoint, recipe.model, recipe.device);
  plan.checks.push_back("model " + recipe.model.summary() + " builds in LibTorch");
  check_output_folder(recipe.output);
  plan.checks.push_back("output " + recipe.output + ": can be created and written");

  // The profile: reused, or made and why (nothing profiled here).
  ProfileRequest request =
      recipe_profile_request(recipe, {recipe.model}, &data.train, recipe.profile_path(), false);
  const ProfileDecision d = decide_profile(request, *meter);
  plan.notes.push_back("profile: " + d.reason);
  const fs::path out(recipe.output);
  const fs::path resume = out.parent_path() / ("." + out.filename().string() + ".resume");
  if (fs::exists(resume))
    plan.notes.push_back("an interrupted run left " + resume.string() +
                         ": its finished steps are reused if its arguments match");
  const int64_t oracles = 1 + static_cast<int64_t>(options.compare.size());
  plan.notes.push_back(loop_text(recipe, options, oracles));

  // Paces: a few iterations of the baseline and of a small network.
  const PaceModel pace = measure_pace(recipe.model, *meter, TrainFeed{&data.train, recipe.train},
                                      recipe.measure.threads);
  plan.watts = pace.watts;
  plan.energy_kind = to_string(pace.kind);
  plan.warn_if_busy(pace.foreign_load, recipe.measure.busy_cores, recipe.measure.busy_retries);
  const double base = pace.seconds_per_iteration(recipe.model);
  // A pruned network costs about the budget's share of the baseline's work.
  const double share =
      options.budget.kind == PruneBudget::Kind::fraction ? options.budget.value : 0.5;
  const double pruned = pace.overhead_s + share * (base - pace.overhead_s);
  const double eval = eval_seconds_per_sample(recipe.model, data.test);
  const double test_eval =
      eval *
      static_cast<double>(options.test_samples < 0 ? data.test.size() : options.test_samples);
  const auto curve_evals = [&](int64_t iterations) {
    const int64_t every = recipe.train.record_every > 0 ? recipe.train.record_every
                                                        : std::max<int64_t>(1, iterations / 20);
    return static_cast<double>(iterations / every) * eval *
           static_cast<double>(std::min(recipe.train.eval_samples, data.test.size()));
  };

  const bool trained = options.checkpoint.empty() && !fs::exists(resume / "baseline.ckpt");
  const double baseline_s =
      trained ? recipe.train.iterations * base + curve_evals(recipe.train.iterations) + test_eval
              : test_eval;
  plan.steps.push_back({trained ? strf("baseline training (%lld iterations, metered)",
                                       (long long)recipe.train.iterations)
                                : std::string("baseline (checkpoint: evaluated only)"),
                        baseline_s, baseline_s});
  if (!d.reused) {
    const auto [lo, hi] = forecast_profiling(request, pace);
    plan.steps.push_back(
        {strf("profiling (%zu layer kinds)",
              plan_profiling({recipe.model}, request.profiler.channel_lower).size()),
         lo, hi});
  }
  const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
  const int64_t parallel = options.concurrency > 0 ? options.concurrency : cores;
  const double rounds = std::ceil(static_cast<double>(options.candidates) / parallel);
  const double short_s =
      oracles * (rounds * options.short_finetune * pruned +
                 options.candidates * eval * static_cast<double>(data.validation.size()));
  plan.steps.push_back(
      {strf("short fine-tunes (%lld × %lld candidates, %lld in parallel)", (long long)oracles,
            (long long)options.candidates, (long long)parallel),
       short_s, short_s});
  measurement_steps(plan, recipe, options, pace, pruned / base);
  const double final_ft = oracles * (options.final_finetune * pruned +
                                     curve_evals(options.final_finetune) + 2 * test_eval);
  plan.steps.push_back({strf("final fine-tunes and TorchScript exports (%lld)", (long long)oracles),
                        final_ft, final_ft});
  const double final_m =
      (1.0 + oracles * pruned / base) * pace.measure_seconds(recipe.model, recipe.measure);
  plan.steps.push_back(
      {strf("final measurement (baseline + %lld pruned, interleaved)", (long long)oracles), final_m,
       final_m});
  return plan;
}

}  // namespace thor::pruner
