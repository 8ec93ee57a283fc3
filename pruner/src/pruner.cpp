#include "thor/pruner/pruner.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <optional>
#include <random>
#include <set>

#include "format.hpp"
#include "parallel.hpp"
#include "plots.hpp"
#include "thor/estimator.hpp"
#include "thor/io.hpp"
#include "thor/meter.hpp"
#include "thor/profiler.hpp"
#include "thor/protocol.hpp"
#include "thor/pruner/oracle.hpp"
#include "thor/pruner/surgery.hpp"

namespace fs = std::filesystem;

namespace thor::pruner {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

using detail::list;
using detail::strf;

// Samples [begin, begin + n) of `d` as a dataset of their own.
Dataset slice(const Dataset& d, int64_t begin, int64_t n, const std::string& name) {
  Dataset out;
  out.name = name;
  out.sample_shape = d.sample_shape;
  out.num_classes = d.num_classes;
  const int64_t numel = d.sample_numel();
  out.data.assign(d.data.begin() + begin * numel, d.data.begin() + (begin + n) * numel);
  out.labels.assign(d.labels.begin() + begin, d.labels.begin() + begin + n);
  return out;
}

// The output folder is assembled in a sibling temp folder and renamed into
// place at the end, so a failure at any step leaves no partial output.
class Staging {
 public:
  explicit Staging(const fs::path& target) : target_(target) {
    const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
    if (!fs::exists(parent)) {
      fs::create_directories(parent);
      created_parent_ = parent;
    }
    path_ = parent / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~Staging() {
    if (committed_) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
    if (!created_parent_.empty()) fs::remove(created_parent_, ec);  // only if still empty
  }
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }
  // Replaces the target: an old folder is moved aside first, then removed.
  void commit() {
    fs::path old;
    if (fs::exists(target_)) {
      old = target_;
      old += ".old-" + std::to_string(::getpid());
      fs::remove_all(old);
      fs::rename(target_, old);
    }
    fs::rename(path_, target_);
    committed_ = true;
    if (!old.empty()) fs::remove_all(old);
  }

 private:
  fs::path target_, path_, created_parent_;
  bool committed_ = false;
};

// Whether a cached profile covers every kind the baseline needs over the
// channel ranges pruning can reach (1 .. the baseline's own counts).
bool profile_covers(const DeviceProfile& profile, const Architecture& arch, std::string& why) {
  for (const KindPlan& plan : plan_profiling({arch})) {
    auto it = profile.kinds.find(plan.key);
    if (it == profile.kinds.end()) {
      why = "kind " + plan.key + " is missing";
      return false;
    }
    const KindModel& k = it->second;
    if (k.lower.size() != plan.lower.size() || k.upper.size() != plan.upper.size()) {
      why = "kind " + plan.key + " has other features";
      return false;
    }
    for (size_t f = 0; f < plan.lower.size(); ++f)
      if (k.lower[f] > plan.lower[f] || k.upper[f] < plan.upper[f]) {
        why = "kind " + plan.key + " covers channels " + std::to_string(k.lower[f]) + ".." +
              std::to_string(k.upper[f]) + ", pruning needs " + std::to_string(plan.lower[f]) +
              ".." + std::to_string(plan.upper[f]);
        return false;
      }
  }
  return true;
}

// Everything one oracle run needs, shared by the runs.
struct Context {
  const Recipe& recipe;
  const PruneOptions& options;
  const Model& baseline;
  const Dataset& train;
  const Dataset& validation;
  const Dataset& test;
  EnergyMeter& meter;
  const Estimator& estimator;
  const Staging& staging;
  double baseline_estimated = 0.0;
  std::vector<std::string>& warnings;
  void say(const std::string& s) const {
    if (options.progress) std::cerr << "prune: " << s << "\n" << std::flush;
  }
};

// The candidate pool every oracle draws from: the strategy's proposals,
// deduplicated, with both oracles' figures.
struct Pool {
  std::vector<ChannelConfig> configs;
  std::vector<double> estimated, flops;
  int64_t sampled = 0;
};

Pool make_pool(const Context& ctx, const ChannelConfig& baseline_channels) {
  const auto strategy = make_pruning_strategy(ctx.options.strategy);
  const PruneSpace space = PruneSpace::from_baseline(baseline_channels, ctx.options.min_keep);
  std::mt19937_64 rng(ctx.options.seed);
  auto proposed = strategy->propose(space, static_cast<size_t>(ctx.options.samples), rng);
  Pool pool;
  pool.sampled = static_cast<int64_t>(proposed.size());
  std::set<ChannelConfig> seen;
  for (auto& c : proposed) {
    if (c.size() != baseline_channels.size())
      throw std::logic_error("pruning strategy '" + strategy->name() + "' proposed " +
                             std::to_string(c.size()) + " channel counts, expected " +
                             std::to_string(baseline_channels.size()));
    c = space.clamp(std::move(c));
    if (seen.insert(c).second) pool.configs.push_back(std::move(c));
  }
  const auto est = make_energy_oracle("estimator", ctx.estimator, ctx.baseline.architecture());
  const auto flops = make_energy_oracle("flops", ctx.estimator, ctx.baseline.architecture());
  for (const auto& c : pool.configs) {
    pool.estimated.push_back(est->joules_per_iteration(c));
    pool.flops.push_back(flops->joules_per_iteration(c));
  }
  return pool;
}

TrainOptions finetune_options(const Context& ctx, int64_t iterations) {
  TrainOptions t = ctx.recipe.train;
  t.iterations = iterations;
  if (ctx.options.lr > 0.0) t.lr = ctx.options.lr;
  return t;
}

PrunedModelResult run_oracle(const Context& ctx, const Pool& pool, const std::string& oracle,
                             bool verify, int run_index) {
  const PruneOptions& o = ctx.options;
  const Architecture& base_arch = ctx.baseline.architecture();
  const ChannelConfig base_channels = [&] {
    ChannelConfig c = base_arch.channels();
    c.pop_back();
    return c;
  }();
  PrunedModelResult r;
  r.oracle = oracle;
  r.sampled = pool.sampled;
  r.unique = static_cast<int64_t>(pool.configs.size());
  const auto& figure = oracle == "flops" ? pool.flops : pool.estimated;
  r.oracle_baseline_joules =
      make_energy_oracle(oracle, ctx.estimator, base_arch)->joules_per_iteration(base_channels);
  // A fraction is taken of the oracle's own baseline figure, so a constant
  // bias of the oracle cancels; absolute budgets are compared directly.
  r.oracle_budget_joules = o.budget.kind == PruneBudget::Kind::fraction
                               ? o.budget.value * r.oracle_baseline_joules
                               : o.budget.per_iteration(0.0, ctx.recipe.train.iterations);
  const double lo = (1.0 - o.band) * r.oracle_budget_joules;

  std::vector<size_t> band, feasible;
  for (size_t i = 0; i < pool.configs.size(); ++i) {
    if (figure[i] <= r.oracle_budget_joules) {
      feasible.push_back(i);
      if (figure[i] >= lo) band.push_back(i);
    }
  }
  r.feasible = static_cast<int64_t>(feasible.size());
  r.in_band = static_cast<int64_t>(band.size());
  // Same seed for every oracle: each draws its pool the same way.
  std::mt19937_64 rng(o.seed ^ 0x9e3779b97f4a7c15ULL);
  std::shuffle(band.begin(), band.end(), rng);
  std::vector<size_t> chosen(band.begin(),
                             band.begin() + std::min<size_t>(band.size(), o.candidates));
  if (static_cast<int64_t>(chosen.size()) < o.candidates) {
    // Not enough in the band: the feasible ones closest to the budget.
    std::vector<size_t> rest;
    std::set<size_t> in(chosen.begin(), chosen.end());
    for (size_t i : feasible)
      if (!in.count(i)) rest.push_back(i);
    std::sort(rest.begin(), rest.end(), [&](size_t a, size_t b) { return figure[a] > figure[b]; });
    for (size_t i : rest) {
      if (static_cast<int64_t>(chosen.size()) >= o.candidates) break;
      chosen.push_back(i);
    }
  }
  if (chosen.empty()) {
    size_t best = 0;
    for (size_t i = 1; i < pool.configs.size(); ++i)
      if (figure[i] < figure[best]) best = i;
    chosen.push_back(best);
    ctx.warnings.push_back(
        oracle + ": no sampled configuration is within the budget (" +
        strf("%.4g", r.oracle_budget_joules) + " J/iter by this oracle); took the cheapest, " +
        strf("%.4g", figure[best]) + " J/iter — lower prune.min_keep or raise the budget");
  }
  for (size_t i : chosen) {
    CandidateRecord c;
    c.channels = pool.configs[i];
    c.oracle_joules = figure[i];
    c.estimated_joules = pool.estimated[i];
    c.flops_joules = pool.flops[i];
    c.in_band = figure[i] >= lo && figure[i] <= r.oracle_budget_joules;
    r.candidates.push_back(std::move(c));
  }
  ctx.say(
      strf("[%s] %lld sampled, %lld unique, %lld within the budget, %lld in the band; fine-tuning "
           "%zu for %lld "
           "iterations",
           oracle.c_str(), (long long)r.sampled, (long long)r.unique, (long long)r.feasible,
           (long long)r.in_band, r.candidates.size(), (long long)o.short_finetune));

  // Short fine-tunes in parallel: one LibTorch thread per task (the arena
  // provides the parallelism), denormals flushed, a seed per candidate.
  const int caller_threads = torch_threads();
  const auto t_short = Clock::now();
  detail::parallel_for_index(o.concurrency, r.candidates.size(), [&](size_t k) {
    set_torch_threads(1);
    set_flush_denormal(true);
    Model m = prune_model_l1(ctx.baseline, r.candidates[k].channels);
    if (o.short_finetune > 0) {
      TrainOptions t = finetune_options(ctx, o.short_finetune);
      t.seed = o.seed * 1000003ULL + 7919ULL * static_cast<uint64_t>(run_index) + k;
      m.train(ctx.train, t);
    }
    r.candidates[k].short_accuracy = m.accuracy(ctx.validation);
  });
  set_torch_threads(caller_threads);
  std::stable_sort(r.candidates.begin(), r.candidates.end(),
                   [](const CandidateRecord& a, const CandidateRecord& b) {
                     if (a.short_accuracy != b.short_accuracy)
                       return a.short_accuracy > b.short_accuracy;
                     return a.oracle_joules > b.oracle_joules;
                   });
  ctx.say(strf("[%s] ranked in %.1f s; best validation accuracy %.2f%% with %s", oracle.c_str(),
               since(t_short), 100.0 * r.candidates.front().short_accuracy,
               list(r.candidates.front().channels).c_str()));

  // Verification: the oracle has a few percent of error, so measure the
  // top-ranked candidates (each in rounds with the baseline, see
  // measure_interleaved) and take the first whose energy lands inside the
  // band under the budget, by a margin. Fallbacks: the best-ranked one in the
  // band, the best-ranked one within the budget, the cheapest measured.
  r.winner = 0;
  if (verify && o.verify > 0) {
    // q: measured energy over the budget (1 = exactly on it).
    std::vector<std::pair<size_t, double>> measured;
    bool accepted = false;
    for (size_t k = 0; k < r.candidates.size() && static_cast<int64_t>(k) < o.verify; ++k) {
      CandidateRecord& c = r.candidates[k];
      const auto m = measure_interleaved({base_arch, base_arch.with_channels(c.channels)},
                                         ctx.meter, ctx.recipe.measure, TrainFeed{&ctx.train, ctx.recipe.train});
      c.measured_joules = m[1].joules_per_iteration;
      c.measured_ratio = m[1].joules_per_iteration / m[0].joules_per_iteration;
      const double q =
          o.budget.kind == PruneBudget::Kind::fraction
              ? c.measured_ratio / o.budget.value
              : c.measured_joules / o.budget.per_iteration(0.0, ctx.recipe.train.iterations);
      ++r.verified;
      ctx.say(
          strf("[%s] verify #%zu %s: measured %.4g J/iter = %.1f%% of the baseline's %.4g in the "
               "same rounds "
               "(%.1f%% of the budget)",
               oracle.c_str(), k + 1, list(c.channels).c_str(), c.measured_joules,
               100.0 * c.measured_ratio, m[0].joules_per_iteration, 100.0 * q));
      measured.emplace_back(k, q);
      if (q >= 1.0 - o.band + o.verify_margin && q <= 1.0 - o.verify_margin) {
        accepted = true;
        break;
      }
    }
    auto first = [&](auto pred) -> long {
      for (size_t j = 0; j < measured.size(); ++j)
        if (pred(measured[j].second)) return static_cast<long>(j);
      return -1;
    };
    long pick = accepted ? static_cast<long>(measured.size()) - 1 : -1;
    if (pick < 0) pick = first([&](double q) { return q >= 1.0 - o.band && q <= 1.0; });
    if (pick < 0) pick = first([&](double q) { return q <= 1.0; });
    if (pick < 0) {
      pick = 0;
      for (size_t j = 1; j < measured.size(); ++j)
        if (measured[j].second < measured[pick].second) pick = static_cast<long>(j);
    }
    r.winner = measured[static_cast<size_t>(pick)].first;
    if (!accepted)
      ctx.warnings.push_back(
          strf("%s: no verified candidate landed in the band under the budget; took rank %zu",
               oracle.c_str(), r.winner + 1));
  }
  const CandidateRecord& w = r.candidates[r.winner];
  r.channels = w.channels;
  const Architecture arch = base_arch.with_channels(r.channels);
  r.architecture = arch.summary();
  r.train_flops = arch.train_flops();
  r.params = arch.params();
  r.estimated_joules_per_iteration = w.estimated_joules;
  r.flops_joules_per_iteration = w.flops_joules;
  r.estimated_energy_ratio = w.estimated_joules / ctx.baseline_estimated;

  // Real structural pruning and the full fine-tune.
  ctx.say(strf("[%s] fine-tuning %s for %lld iterations", oracle.c_str(), list(r.channels).c_str(),
               (long long)o.final_finetune));
  Model pruned = prune_model_l1(ctx.baseline, r.channels);
  const auto t_ft = Clock::now();
  if (o.final_finetune > 0) {
    TrainOptions t = finetune_options(ctx, o.final_finetune);
    t.seed = o.seed + 17ULL * static_cast<uint64_t>(run_index + 1);
    if (t.record_every <= 0) t.record_every = std::max<int64_t>(1, o.final_finetune / 20);
    r.curve = pruned.train(ctx.train, t, &ctx.test).curve;
  }
  r.finetune_seconds = since(t_ft);
  r.accuracy = pruned.accuracy(ctx.test, o.test_samples);

  const std::string suffix = run_index == 0 ? "" : "_" + oracle;
  r.files_yaml = "pruned" + suffix + ".yaml";
  r.files_model = "model" + suffix + ".pt";
  write_file_atomic(
      ctx.staging.file(r.files_yaml),
      "# Pruned by thor (oracle: " + oracle + ") from " + ctx.recipe.path + "\n" + arch.to_yaml());
  pruned.export_torchscript(ctx.staging.file(r.files_model));
  r.torchscript_accuracy =
      torchscript_accuracy(ctx.staging.file(r.files_model), ctx.test, o.test_samples);
  ctx.say(strf("[%s] test accuracy %.2f%% (TorchScript %.2f%%)", oracle.c_str(), 100.0 * r.accuracy,
               100.0 * r.torchscript_accuracy));
  return r;
}

}  // namespace

PruneResult run_pruning(const Recipe& recipe_in, const PruneOptions& options) {
  const auto t0 = Clock::now();
  options.validate();
  const Recipe& recipe = recipe_in;
  recipe.train.validate();
  recipe.measure.validate();
  check_device(recipe.device);
  if (recipe.model.channels().size() < 2) {
    const std::string msg =
        "pruning needs at least two conv/linear layers (the last one's outputs are the classes)";
    if (!recipe.path.empty() && fs::exists(recipe.path))
      load_yaml_file(recipe.path).child("model").fail(msg);
    throw InputError("model: " + msg);
  }
  register_builtin_meters();
  register_builtin_pruning_strategies();
  if (recipe.meter == "sim") register_sim_meter();
  auto meter = make_meter(recipe.meter, recipe.meter_options);
  auto say = [&](const std::string& s) {
    if (options.progress) std::cerr << "prune: " << s << "\n" << std::flush;
  };

  // Data first: a missing dataset must fail before anything is written.
  say("loading " + recipe.data.dataset + " from " + recipe.data.resolved_root());
  auto [train_all, test] = load_recipe_data(recipe.data);
  if (options.validation >= train_all.size())
    throw InputError(recipe.path +
                     ": key 'prune.validation': " + std::to_string(options.validation) +
                     " held-out samples leave none to train on (the training set has " +
                     std::to_string(train_all.size()) + ")");
  const int64_t n_train = train_all.size() - options.validation;
  const Dataset train = slice(train_all, 0, n_train, train_all.name + "[train]");
  const Dataset validation =
      slice(train_all, n_train, options.validation, train_all.name + "[validation]");
  const bool default_cache = recipe.profile.cache.empty();
  const std::string profile_path = recipe.profile_path();

  Staging staging{fs::path(recipe.output)};
  PruneResult result;
  result.recipe = recipe.path;
  result.output = recipe.output;
  result.meter = meter->describe();
  result.meter_kind = to_string(meter->kind());
  result.strategy = options.strategy;
  result.budget = options.budget.describe(recipe.train.iterations);
  result.train_iterations = recipe.train.iterations;

  // 1. The baseline.
  BaselineResult& b = result.baseline;
  const auto t_train = Clock::now();
  Model baseline = [&] {
    if (!options.checkpoint.empty()) {
      say("loading the baseline from " + options.checkpoint);
      b.from_checkpoint = true;
      return Model::load(options.checkpoint, recipe.model, recipe.device);
    }
    say(strf("training the baseline for %lld iterations on %lld samples",
             (long long)recipe.train.iterations, (long long)train.size()));
    Model m(recipe.model, recipe.train.seed, recipe.device);
    TrainOptions t = recipe.train;
    if (t.record_every <= 0) t.record_every = std::max<int64_t>(1, t.iterations / 20);
    // The baseline's training is a real run: meter it whole (evaluation
    // included), under the protocol's thread count, to check the estimate.
    const int saved_threads = torch_threads();
    set_torch_threads(recipe.measure.threads);
    meter->set_workload({&recipe.model, static_cast<long>(t.iterations), &m.feed_stats()});
    meter->start();
    try {
      b.curve = m.train(train, t, &test).curve;
    } catch (...) {
      meter->stop();
      set_torch_threads(saved_threads);
      throw;
    }
    const EnergyReading run = meter->stop();
    // What the curve's evaluations cost: one metered on its own, times their number.
    meter->set_workload({&recipe.model, 0, nullptr});
    meter->start();
    (void)m.accuracy(test, t.eval_samples);
    const EnergyReading one_eval = meter->stop();
    set_torch_threads(saved_threads);
    b.real_run_joules = run.joules;
    b.real_run_evaluation_joules = one_eval.joules * static_cast<double>(b.curve.size());
    b.real_run_joules_per_iteration = std::max(0.0, run.joules - b.real_run_evaluation_joules) /
                                      static_cast<double>(std::max<int64_t>(1, t.iterations));
    return m;
  }();
  b.train_seconds = since(t_train);
  b.accuracy = baseline.accuracy(test, options.test_samples);
  b.architecture = recipe.model.summary();
  b.channels = recipe.model.channels();
  b.channels.pop_back();
  b.train_flops = recipe.model.train_flops();
  b.params = recipe.model.params();
  baseline.save(staging.file("baseline.ckpt"));
  say(strf("baseline test accuracy %.2f%% (%.1f s)", 100.0 * b.accuracy, b.train_seconds));

  // 2. A profile covering the baseline over the pruning range.
  const auto t_profile = Clock::now();
  const ProfilerOptions popts = [&] {
    ProfilerOptions p = profiler_options(recipe);
    p.feed.data = &train;
    p.progress = options.progress;
    // A journal inside the output folder would outlive a failed run; with
    // the default cache it lives in the staging folder instead.
    p.journal_path =
        default_cache ? staging.file("profile.json.journal") : profile_path + ".journal";
    return p;
  }();
  const ProfileSettings now =
      ProfileSettings::current(*meter, recipe.meter_options, popts.measure, popts.feed, recipe.model.input);
  std::optional<DeviceProfile> profile;
  if (fs::exists(profile_path)) {
    try {
      DeviceProfile cached = DeviceProfile::load(profile_path);
      const auto diff = cached.settings.differences(now);
      std::string why;
      if (!diff.empty()) {
        say("not reusing " + profile_path + ": made under other settings (" + diff.front() + ")");
      } else if (!profile_covers(cached, recipe.model, why)) {
        say("not reusing " + profile_path + ": " + why);
      } else {
        profile = std::move(cached);
        result.profile_reused = true;
        say("reusing the profile " + profile_path);
      }
    } catch (const InputError& e) {
      result.warnings.push_back(std::string("cached profile not usable: ") + e.what());
    }
  }
  if (!profile) {
    say("profiling the baseline's layer kinds with " + meter->describe());
    profile = run_profiler({recipe.model}, *meter, recipe.meter_options, popts).profile;
    std::error_code ec;
    fs::remove(popts.journal_path, ec);
  }
  result.profile_seconds = since(t_profile);
  profile->save(staging.file("profile.json"));
  if (!default_cache && !result.profile_reused) profile->save(profile_path);
  result.profile_path =
      default_cache ? (fs::path(recipe.output) / "profile.json").string() : profile_path;
  const Estimator estimator(*profile);

  // 3. Baseline energy, estimated and measured.
  const EstimateResult est = estimator.estimate(recipe.model);
  b.estimated_joules_per_iteration = est.joules_per_iteration;
  b.estimated_std = est.std;
  b.flops_joules_per_iteration = est.flops_joules;
  say(strf("baseline: estimated %.5g J/iter (GP), %.5g (FLOPs baseline); budget %s",
           est.joules_per_iteration, est.flops_joules, result.budget.c_str()));

  // 4-6. The loop, once per oracle.
  Context ctx{recipe,         options, baseline,  train,   validation,
              test,           *meter,  estimator, staging, est.joules_per_iteration,
              result.warnings};
  const Pool pool = make_pool(ctx, b.channels);
  result.pruned = run_oracle(ctx, pool, "estimator", true, 0);
  for (size_t i = 0; i < options.compare.size(); ++i)
    result.compare.push_back(
        run_oracle(ctx, pool, options.compare[i], false, static_cast<int>(i) + 1));

  // 6. The final figures: the baseline and every pruned model measured with
  // the same protocol, in the same rounds.
  say("measuring the baseline and the pruned models");
  std::vector<PrunedModelResult*> runs{&result.pruned};
  for (auto& c : result.compare) runs.push_back(&c);
  std::vector<Architecture> archs{recipe.model};
  for (const auto* r : runs) archs.push_back(recipe.model.with_channels(r->channels));
  const auto final_m = measure_interleaved(archs, *meter, recipe.measure, TrainFeed{&train, recipe.train});
  b.measured_joules_per_iteration = final_m[0].joules_per_iteration;
  b.measured_cv = final_m[0].cv;
  b.measured_rounds = final_m[0].repeat_joules;
  result.budget_joules_per_iteration =
      options.budget.per_iteration(b.measured_joules_per_iteration, recipe.train.iterations);
  for (size_t i = 0; i < runs.size(); ++i) {
    PrunedModelResult& r = *runs[i];
    r.measured_joules_per_iteration = final_m[i + 1].joules_per_iteration;
    r.measured_cv = final_m[i + 1].cv;
    r.measured_rounds = final_m[i + 1].repeat_joules;
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

  result.status = result.pruned.within_budget ? PruneStatus::ok : PruneStatus::over_budget;
  result.message =
      result.pruned.within_budget
          ? strf(
                "the estimator-guided model uses %.1f%% of the baseline's energy per iteration, "
                "within "
                "the budget; accuracy %+.2f points",
                100.0 * result.pruned.measured_energy_ratio,
                100.0 * (result.pruned.accuracy - b.accuracy))
          : strf("the estimator-guided model uses %.5g J/iter, over the budget of %.5g J/iter",
                 result.pruned.measured_joules_per_iteration, result.budget_joules_per_iteration);

  // 7. Plots, report, then the folder into place.
  if (options.plots)
    result.plots = detail::write_plots(result, staging.path().string(), result.warnings);
  result.total_seconds = since(t0);
  write_file_atomic(staging.file("report.json"), result.to_json().dump(2) + "\n");
  staging.commit();
  return result;
}

}  // namespace thor::pruner
