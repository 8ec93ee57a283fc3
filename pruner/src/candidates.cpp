// Steps 4-5 of the pruning loop: the candidate pool, and one oracle's run
// over it — selection, short fine-tunes, verification, the final model.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <set>

#include "loop.hpp"
#include "thor/cluster.hpp"
#include "thor/cost_oracle.hpp"
#include "thor/format.hpp"
#include "thor/parallel.hpp"
#include "thor/progress.hpp"
#include "thor/protocol.hpp"
#include "thor/pruner/selection.hpp"
#include "thor/pruner/surgery.hpp"
#include "thor/run_log.hpp"

namespace thor::pruner::detail {

namespace {

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

TrainOptions finetune_options(const Context& ctx, int64_t iterations, uint64_t seed) {
  TrainOptions t = ctx.recipe.train;
  t.iterations = iterations;
  t.seed = seed;
  if (ctx.options.lr > 0.0) t.lr = ctx.options.lr;
  return t;
}

// The selected configurations as records, with every figure the report shows.
std::vector<CandidateRecord> records(const Pool& pool, const Selection& sel,
                                     const std::vector<double>& figure, double budget,
                                     double band) {
  std::vector<CandidateRecord> out;
  for (size_t i : sel.chosen) {
    CandidateRecord c;
    c.channels = pool.configs[i];
    c.oracle_joules = figure[i];
    c.estimated_joules = pool.figures.at("estimator")[i];
    c.flops_joules = pool.figures.at("flops")[i];
    c.in_band = figure[i] >= (1.0 - band) * budget && figure[i] <= budget;
    out.push_back(std::move(c));
  }
  return out;
}

// Short fine-tunes in parallel, one LibTorch thread per task, across the
// ranks (whichever worker is free takes the next) and oneTBB inside each; a
// candidate's seed fixes its result on any rank. Rank 0 records them for a
// resumed run.
void fine_tune_all(const Context& ctx, PrunedModelResult& r, int run_index) {
  const PruneOptions& o = ctx.options;
  ProgressPhase phase("[" + r.oracle + "] short fine-tunes",
                      static_cast<int64_t>(r.candidates.size()), o.progress && ctx.staging);
  const auto accuracies = distribute(r.candidates.size(), o.concurrency, [&](size_t k) {
    const TorchThreadsGuard one_thread(1);
    set_flush_denormal(true);
    Model m = prune_model_l1(ctx.baseline, r.candidates[k].channels);
    const uint64_t seed = o.seed * 1000003ULL + 7919ULL * static_cast<uint64_t>(run_index) + k;
    if (o.short_finetune > 0)
      m.train(ctx.data.train, finetune_options(ctx, o.short_finetune, seed));
    const double a = m.accuracy(ctx.data.validation);
    phase.advance();
    return std::string(reinterpret_cast<const char*>(&a), sizeof a);
  });
  std::vector<ChannelConfig> channels;
  std::vector<double> values;
  for (size_t k = 0; k < r.candidates.size(); ++k) {
    accuracies[k].copy(reinterpret_cast<char*>(&r.candidates[k].short_accuracy), sizeof(double));
    channels.push_back(r.candidates[k].channels);
    values.push_back(r.candidates[k].short_accuracy);
  }
  if (Cluster::world().root()) ctx.resume->save_round(r.oracle, channels, values);
}

// The short fine-tunes (or those of an interrupted run with the same
// arguments), then the candidates ranked by validation accuracy.
void rank_by_short_finetune(const Context& ctx, PrunedModelResult& r, int run_index) {
  std::vector<ChannelConfig> channels;
  for (const auto& c : r.candidates) channels.push_back(c.channels);
  if (const auto done = ctx.resume->round(r.oracle, channels)) {
    ctx.say("[" + r.oracle + "] resuming: the short fine-tunes of the interrupted run");
    for (size_t k = 0; k < r.candidates.size(); ++k) r.candidates[k].short_accuracy = (*done)[k];
  } else {
    fine_tune_all(ctx, r, run_index);
  }
  std::stable_sort(r.candidates.begin(), r.candidates.end(),
                   [](const CandidateRecord& a, const CandidateRecord& b) {
                     if (a.short_accuracy != b.short_accuracy)
                       return a.short_accuracy > b.short_accuracy;
                     return a.oracle_joules > b.oracle_joules;
                   });
}

// The oracle has a few percent of error, so the top-ranked candidates are
// measured (each in rounds with the baseline) until one lands inside the
// band under the budget; pick_verified says which wins otherwise.
void verify(const Context& ctx, PrunedModelResult& r) {
  const PruneOptions& o = ctx.options;
  const Architecture& base = ctx.baseline.architecture();
  std::vector<double> q;  // measured energy over the budget (1 = exactly on it)
  const RunLogContext logged("verify");
  ProgressPhase phase("[" + r.oracle + "] verification",
                      std::min<int64_t>(o.verify, static_cast<int64_t>(r.candidates.size())),
                      o.progress);
  for (size_t k = 0; k < r.candidates.size() && static_cast<int64_t>(k) < o.verify; ++k) {
    CandidateRecord& c = r.candidates[k];
    const auto m =
        measure_interleaved({base, ctx.groups.apply(c.channels)}, *ctx.meter, ctx.recipe.measure,
                            TrainFeed{&ctx.data.train, ctx.recipe.train});
    c.measured_joules = m[1].joules_per_iteration;
    c.measured_ratio = m[1].joules_per_iteration / m[0].joules_per_iteration;
    const double budget =
        o.budget.per_iteration(m[0].joules_per_iteration, ctx.recipe.train.iterations);
    q.push_back(c.measured_joules / budget);
    ++r.verified;
    phase.update(r.verified,
                 strf("#%zu measured at %.1f%% of the budget", k + 1, 100.0 * q.back()));
    ctx.say(
        strf("[%s] verify #%zu %s: measured %.4g J/iter = %.1f%% of the baseline's %.4g in the "
             "same rounds (%.1f%% of the budget)",
             r.oracle.c_str(), k + 1, list(c.channels).c_str(), c.measured_joules,
             100.0 * c.measured_ratio, m[0].joules_per_iteration, 100.0 * q.back()));
    if (accepts(q.back(), o.band, o.verify_margin)) break;
  }
  const Pick pick = pick_verified(q, o.band, o.verify_margin);
  r.winner = pick.index;
  if (!pick.accepted)
    ctx.warnings.push_back(
        strf("%s: no verified candidate landed in the band under the budget; took rank %zu",
             r.oracle.c_str(), r.winner + 1));
}

// Real structural pruning of the winner, the full fine-tune and the export.
void finish_winner(const Context& ctx, PrunedModelResult& r, int run_index) {
  const PruneOptions& o = ctx.options;
  const CandidateRecord& w = r.candidates[r.winner];
  r.channels = w.channels;
  const Architecture arch = ctx.groups.apply(r.channels);
  r.architecture = arch.summary();
  r.train_flops = arch.train_flops();
  r.params = arch.params();
  r.estimated_joules_per_iteration = w.estimated_joules;
  r.flops_joules_per_iteration = w.flops_joules;
  r.estimated_energy_ratio = w.estimated_joules / ctx.baseline_estimated;
  ctx.say(strf("[%s] fine-tuning %s for %lld iterations", r.oracle.c_str(),
               list(r.channels).c_str(), (long long)o.final_finetune));
  Model pruned = prune_model_l1(ctx.baseline, r.channels);
  const auto t_ft = std::chrono::steady_clock::now();
  if (o.final_finetune > 0) {
    TrainOptions t = finetune_options(ctx, o.final_finetune,
                                      o.seed + 17ULL * static_cast<uint64_t>(run_index + 1));
    if (t.record_every <= 0) t.record_every = std::max<int64_t>(1, o.final_finetune / 20);
    ProgressPhase phase("[" + r.oracle + "] final fine-tune", o.final_finetune, o.progress);
    r.curve =
        pruned
            .train(ctx.data.train, t, &ctx.data.test,
                   [&](const CurvePoint& p) {
                     phase.update(p.iteration, strf("test accuracy %.1f%%", 100.0 * p.accuracy));
                   })
            .curve;
  }
  r.finetune_seconds = since(t_ft);
  r.accuracy = pruned.accuracy(ctx.data.test, o.test_samples);
  const std::string suffix = run_index == 0 ? "" : "_" + r.oracle;
  r.files_yaml = "pruned" + suffix + ".yaml";
  r.files_model = "model" + suffix + ".pt";
  write_file_atomic(ctx.staging->file(r.files_yaml), "# Pruned by thor (oracle: " + r.oracle +
                                                         ") from " + ctx.recipe.path + "\n" +
                                                         arch.to_yaml());
  pruned.export_torchscript(ctx.staging->file(r.files_model));
  r.torchscript_accuracy =
      torchscript_accuracy(ctx.staging->file(r.files_model), ctx.data.test, o.test_samples);
  ctx.say(strf("[%s] test accuracy %.2f%% (TorchScript %.2f%%)", r.oracle.c_str(),
               100.0 * r.accuracy, 100.0 * r.torchscript_accuracy));
}

// The oracle's error grows away from the baseline, so before selecting,
// `calibrate` pool configurations the oracle puts at the middle of the band
// are measured in rounds with the baseline (rank 0; the figures reach every
// rank). Their median measured/oracle ratio — of the energy fraction for a
// fractional budget, of J/iter for an absolute one — scales the oracle's
// figures for selection. A resumed run takes the measured figures it had.
void calibrate(const Context& ctx, const Pool& pool, const std::vector<double>& figure,
               PrunedModelResult& r) {
  const PruneOptions& o = ctx.options;
  const double target = r.oracle_budget_joules * (1.0 - o.band / 2.0);
  std::vector<size_t> order(pool.configs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::abs(figure[a] - target) < std::abs(figure[b] - target);
  });
  order.resize(std::min<size_t>(order.size(), static_cast<size_t>(o.calibrate)));
  if (order.empty()) return;
  std::vector<Architecture> archs{ctx.baseline.architecture()};
  for (size_t i : order) {
    r.calibration_probes.push_back(pool.configs[i]);
    archs.push_back(ctx.groups.apply(pool.configs[i]));
  }
  const bool fraction = o.budget.kind == PruneBudget::Kind::fraction;
  const std::string round = "calibrate:" + r.oracle;
  std::vector<double> measured;  // per probe: its energy fraction, or its J/iter
  if (const auto done = ctx.resume->round(round, r.calibration_probes)) {
    measured = *done;
  } else {
    if (Cluster::world().root()) {
      const RunLogContext logged("calibrate");
      ProgressPhase phase("[" + r.oracle + "] calibration", 0, o.progress);
      const auto m = measure_interleaved(archs, *ctx.meter, ctx.recipe.measure,
                                         TrainFeed{&ctx.data.train, ctx.recipe.train});
      for (size_t k = 1; k < m.size(); ++k)
        measured.push_back(fraction ? m[k].joules_per_iteration / m[0].joules_per_iteration
                                    : m[k].joules_per_iteration);
      ctx.resume->save_round(round, r.calibration_probes, measured);
    }
    measured = nlohmann::json::parse(Cluster::world().broadcast(nlohmann::json(measured).dump()))
                   .get<std::vector<double>>();
  }
  for (size_t k = 0; k < order.size(); ++k) {
    const double f = figure[order[k]];
    r.calibration_factors.push_back(fraction ? measured[k] / (f / r.oracle_baseline_joules)
                                             : measured[k] / f);
  }
  r.calibration = median(r.calibration_factors);
  std::string factors;
  for (double f : r.calibration_factors) factors += (factors.empty() ? "" : ", ") + strf("%.3f", f);
  ctx.say(
      strf("[%s] calibration: %zu configurations measured at [%s] × the oracle's figures; "
           "selecting with the oracle scaled by %.3f",
           r.oracle.c_str(), order.size(), factors.c_str(), r.calibration));
}

}  // namespace

Pool make_pool(const Context& ctx, const std::vector<std::string>& oracles) {
  const auto strategy = make_pruning_strategy(ctx.options.strategy);
  const PruneSpace space = PruneSpace::from_baseline(ctx.baseline_channels, ctx.options.min_keep,
                                                     ctx.groups.multiples());
  std::mt19937_64 rng(ctx.options.seed);
  auto proposed = strategy->propose(space, static_cast<size_t>(ctx.options.samples), rng);
  Pool pool;
  pool.sampled = static_cast<int64_t>(proposed.size());
  std::set<ChannelConfig> seen;
  for (auto& c : proposed) {
    if (c.size() != ctx.baseline_channels.size())
      throw std::logic_error("pruning strategy '" + strategy->name() + "' proposed " +
                             std::to_string(c.size()) + " channel counts, expected " +
                             std::to_string(ctx.baseline_channels.size()));
    c = space.clamp(std::move(c));
    if (seen.insert(c).second) pool.configs.push_back(std::move(c));
  }
  for (const auto& name : oracles) {
    if (pool.figures.count(name)) continue;
    const auto plan = make_cost_oracle(name, ctx.estimator)->plan(ctx.baseline.architecture());
    auto& figure = pool.figures[name];
    for (const auto& c : pool.configs) figure.push_back(plan->predict(ctx.groups.widths(c)).mean);
    pool.baseline[name] = plan->predict(ctx.groups.widths(ctx.baseline_channels)).mean;
  }
  return pool;
}

PrunedModelResult run_oracle(const Context& ctx, const Pool& pool, const std::string& oracle,
                             bool verify_winner, int run_index) {
  const PruneOptions& o = ctx.options;
  PrunedModelResult r;
  r.oracle = oracle;
  r.sampled = pool.sampled;
  r.unique = static_cast<int64_t>(pool.configs.size());
  const auto& figure = pool.figures.at(oracle);
  r.oracle_baseline_joules = pool.baseline.at(oracle);
  // A fraction is taken of the oracle's own figure for the baseline, so a
  // constant bias of the oracle cancels; absolute budgets are used as given.
  r.oracle_budget_joules =
      o.budget.per_iteration(r.oracle_baseline_joules, ctx.recipe.train.iterations);
  if (verify_winner && o.verify > 0 && o.calibrate > 0) calibrate(ctx, pool, figure, r);
  // Selection aims at the budget as measured: the oracle's figures scaled.
  std::vector<double> aimed = figure;
  for (double& f : aimed) f *= r.calibration;
  const Selection sel =
      select_candidates(aimed, r.oracle_budget_joules, o.band, o.candidates, o.seed);
  r.feasible = sel.feasible;
  r.in_band = sel.in_band;
  r.candidates = records(pool, sel, aimed, r.oracle_budget_joules, o.band);
  for (auto& c : r.candidates) c.oracle_joules /= r.calibration;  // report the oracle's own
  for (const auto& c : r.candidates) {
    RunRecord rec;  // what the estimator says each chosen candidate's training costs
    rec.what = "candidate";
    rec.subject = "[" + oracle + "] " + list(c.channels);
    rec.source = "estimated";
    rec.iterations = ctx.recipe.train.iterations;
    rec.energy_J = c.estimated_joules * static_cast<double>(rec.iterations);
    log_run_record(rec);
  }
  if (sel.none_feasible)
    ctx.warnings.push_back(oracle + ": no sampled configuration is within the budget (" +
                           strf("%.4g", r.oracle_budget_joules) +
                           " J/iter by this oracle); took the cheapest, " +
                           strf("%.4g", aimed[sel.chosen.front()]) +
                           " J/iter — lower prune.min_keep or raise the budget");
  ctx.say(
      strf("[%s] %lld sampled, %lld unique, %lld within the budget, %lld in the band; fine-tuning "
           "%zu for "
           "%lld iterations",
           oracle.c_str(), (long long)r.sampled, (long long)r.unique, (long long)r.feasible,
           (long long)r.in_band, r.candidates.size(), (long long)o.short_finetune));
  const auto t_short = std::chrono::steady_clock::now();
  rank_by_short_finetune(ctx, r, run_index);
  ctx.say(strf("[%s] ranked in %.1f s; best validation accuracy %.2f%% with %s", oracle.c_str(),
               since(t_short), 100.0 * r.candidates.front().short_accuracy,
               list(r.candidates.front().channels).c_str()));
  r.winner = 0;
  if (!Cluster::world().root()) return r;  // rank 0 verifies and builds the winner
  if (verify_winner && o.verify > 0) verify(ctx, r);
  finish_winner(ctx, r, run_index);
  return r;
}

}  // namespace thor::pruner::detail
