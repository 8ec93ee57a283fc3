// The pruning run's results as report.json and as text.
#include <nlohmann/json.hpp>

#include "thor/format.hpp"
#include "thor/pruner/pruner.hpp"

namespace thor::pruner {

std::string to_string(PruneStatus status) {
  return status == PruneStatus::ok ? "ok" : "over_budget";
}

namespace {

nlohmann::json curve_json(const std::vector<CurvePoint>& curve) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& p : curve)
    a.push_back({{"iteration", p.iteration}, {"loss", p.loss}, {"accuracy", p.accuracy}});
  return a;
}

}  // namespace

nlohmann::json PrunedModelResult::to_json() const {
  nlohmann::json j;
  j["oracle"] = oracle;
  j["accuracy"] = accuracy;
  j["torchscript_accuracy"] = torchscript_accuracy;
  j["measured_joules_per_iteration"] = measured_joules_per_iteration;
  j["measured_cv"] = measured_cv;
  j["measured_rounds"] = measured_rounds;
  j["estimated_joules_per_iteration"] = estimated_joules_per_iteration;
  j["flops_joules_per_iteration"] = flops_joules_per_iteration;
  j["oracle_joules_per_iteration"] = candidates.empty() ? 0.0 : candidates[winner].oracle_joules;
  j["measured_energy_ratio"] = measured_energy_ratio;
  j["estimated_energy_ratio"] = estimated_energy_ratio;
  j["paired_energy_ratio"] = paired_energy_ratio;
  j["within_budget"] = within_budget;
  j["channels"] = channels;
  j["architecture"] = architecture;
  j["train_flops"] = train_flops;
  j["params"] = params;
  j["oracle_baseline_joules_per_iteration"] = oracle_baseline_joules;
  j["oracle_budget_joules_per_iteration"] = oracle_budget_joules;
  j["sampled"] = sampled;
  j["unique"] = unique;
  j["feasible"] = feasible;
  j["in_band"] = in_band;
  j["verified"] = verified;
  j["calibration"] = {
      {"factor", calibration}, {"probes", calibration_probes}, {"factors", calibration_factors}};
  j["winner_rank"] = winner;
  j["finetune_seconds"] = finetune_seconds;
  j["files"] = {{"architecture", files_yaml}, {"model", files_model}};
  j["candidates"] = nlohmann::json::array();
  for (const auto& c : candidates) {
    nlohmann::json cj{{"channels", c.channels},
                      {"oracle_joules_per_iteration", c.oracle_joules},
                      {"estimated_joules_per_iteration", c.estimated_joules},
                      {"flops_joules_per_iteration", c.flops_joules},
                      {"in_band", c.in_band},
                      {"short_accuracy", c.short_accuracy}};
    if (c.measured_joules >= 0) cj["measured_joules_per_iteration"] = c.measured_joules;
    j["candidates"].push_back(cj);
  }
  j["curve"] = curve_json(curve);
  return j;
}

nlohmann::json PruneResult::to_json() const {
  nlohmann::json j;
  j["schema_version"] = 1;
  j["status"] = to_string(status);
  j["message"] = message;
  j["summary"] = one_line();
  j["recipe"] = recipe;
  j["output"] = output;
  j["meter"] = meter;
  j["meter_kind"] = meter_kind;
  j["strategy"] = strategy;
  j["budget"] = budget;
  j["budget_joules_per_iteration"] = budget_joules_per_iteration;
  j["budget_joules_total"] = budget_joules_per_iteration * static_cast<double>(train_iterations);
  j["train_iterations"] = train_iterations;
  j["measured_energy_ratio"] = pruned.measured_energy_ratio;
  j["estimated_energy_ratio"] = pruned.estimated_energy_ratio;
  j["baseline"] = {
      {"architecture", baseline.architecture},
      {"from_checkpoint", baseline.from_checkpoint},
      {"accuracy", baseline.accuracy},
      {"estimated_joules_per_iteration", baseline.estimated_joules_per_iteration},
      {"estimated_std", baseline.estimated_std},
      {"flops_joules_per_iteration", baseline.flops_joules_per_iteration},
      {"measured_joules_per_iteration", baseline.measured_joules_per_iteration},
      {"measured_cv", baseline.measured_cv},
      {"measured_rounds", baseline.measured_rounds},
      {"real_run_joules",
       baseline.real_run_joules > 0 ? nlohmann::json(baseline.real_run_joules) : nlohmann::json()},
      {"real_run_evaluation_joules", baseline.real_run_evaluation_joules},
      {"real_run_joules_per_iteration", baseline.real_run_joules_per_iteration > 0
                                            ? nlohmann::json(baseline.real_run_joules_per_iteration)
                                            : nlohmann::json()},
      {"channels", baseline.channels},
      {"groups", baseline.groups},
      {"train_flops", baseline.train_flops},
      {"params", baseline.params},
      {"train_seconds", baseline.train_seconds},
      {"curve", curve_json(baseline.curve)}};
  j["pruned"] = pruned.to_json();
  j["compare"] = nlohmann::json::object();
  for (const auto& c : compare) j["compare"][c.oracle] = c.to_json();
  j["profile"] = {{"path", profile_path}, {"reused", profile_reused}, {"seconds", profile_seconds}};
  j["total_seconds"] = total_seconds;
  j["plots"] = plots;
  j["warnings"] = warnings;
  return j;
}

std::string PruneResult::one_line() const {
  return strf(
      "pruned to %.1f%% of the baseline's %s energy per iteration (budget %s), accuracy %.2f%% vs "
      "%.2f%%",
      100.0 * pruned.measured_energy_ratio, meter_kind.c_str(), budget.c_str(),
      100.0 * pruned.accuracy, 100.0 * baseline.accuracy);
}

std::string PruneResult::full_report() const {
  std::string s;
  s += strf("recipe %s, strategy %s, energy %s by %s\n", recipe.c_str(), strategy.c_str(),
            meter_kind.c_str(), meter.c_str());
  s += strf("budget: %s = %.5g J/iteration (%.4g J over %lld iterations)\n", budget.c_str(),
            budget_joules_per_iteration,
            budget_joules_per_iteration * static_cast<double>(train_iterations),
            (long long)train_iterations);
  s += strf("%-20s %9s %12s %7s %6s %12s %12s  %s\n", "", "accuracy", "measured J/it", "cv",
            "ratio", "estimated", "FLOPs-est", "channels");
  s += strf("%-20s %8.2f%% %12.5g %6.1f%% %5.1f%% %12.5g %12.5g  %s\n", "baseline",
            100.0 * baseline.accuracy, baseline.measured_joules_per_iteration,
            100.0 * baseline.measured_cv, 100.0, baseline.estimated_joules_per_iteration,
            baseline.flops_joules_per_iteration, list(baseline.channels).c_str());
  if (baseline.real_run_joules_per_iteration > 0) {
    const double run = baseline.real_run_joules_per_iteration;
    s += strf(
        "baseline's metered training run: %.5g J (%.5g J of it evaluating the curve points), %.5g "
        "J/iter "
        "training; estimate %.5g (%+.1f%%), protocol %.5g (%+.1f%%)\n",
        baseline.real_run_joules, baseline.real_run_evaluation_joules, run,
        baseline.estimated_joules_per_iteration,
        100.0 * (baseline.estimated_joules_per_iteration / run - 1.0),
        baseline.measured_joules_per_iteration,
        100.0 * (baseline.measured_joules_per_iteration / run - 1.0));
  }
  auto row = [&](const PrunedModelResult& p) {
    return strf("%-20s %8.2f%% %12.5g %6.1f%% %5.1f%% %12.5g %12.5g  %s %s\n",
                ("pruned (" + p.oracle + ")").c_str(), 100.0 * p.accuracy,
                p.measured_joules_per_iteration, 100.0 * p.measured_cv,
                100.0 * p.measured_energy_ratio, p.estimated_joules_per_iteration,
                p.flops_joules_per_iteration, list(p.channels).c_str(),
                p.within_budget ? "within budget" : "OVER BUDGET");
  };
  s += row(pruned);
  for (const auto& c : compare) s += row(c);
  s += strf("TorchScript model.pt accuracy: %.2f%%", 100.0 * pruned.torchscript_accuracy);
  for (const auto& c : compare)
    s += strf(", %s: %.2f%%", c.files_model.c_str(), 100.0 * c.torchscript_accuracy);
  s += "\n";
  s += strf(
      "estimator-guided: %lld candidates ranked, %lld verified by measuring, winner rank %zu\n",
      (long long)pruned.candidates.size(), (long long)pruned.verified, pruned.winner + 1);
  s += strf("profile: %s %s (%.1f s); total %.1f s\n", profile_reused ? "reused" : "made",
            profile_path.c_str(), profile_seconds, total_seconds);
  for (const auto& w : warnings) s += "warning: " + w + "\n";
  s += "status: " + to_string(status) + " — " + message + "\n";
  s += "wrote " + output + "\n";
  return s;
}

}  // namespace thor::pruner
