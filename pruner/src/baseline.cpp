// Step 1 of the pruning loop: the data split and the baseline model.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>

#include "loop.hpp"
#include "thor/cluster.hpp"
#include "thor/format.hpp"
#include "thor/parallel.hpp"
#include "thor/progress.hpp"
#include "thor/pruner/groups.hpp"
#include "thor/run_log.hpp"

namespace thor::pruner::detail {

namespace {

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

// Trains `m` as a real run, metered whole (evaluations included) under the
// protocol's thread count, then meters one evaluation on its own to split
// the curve's evaluations out of the figure the estimate predicts.
void train_metered(Model& m, const Recipe& recipe, const DataSplit& data, EnergyMeter& meter,
                   BaselineResult& b, bool show_progress) {
  TrainOptions t = recipe.train;
  if (t.record_every <= 0) t.record_every = std::max<int64_t>(1, t.iterations / 20);
  const TorchThreadsGuard threads(recipe.measure.threads);
  meter.set_workload({&recipe.model, static_cast<long>(t.iterations), &m.feed_stats()});
  meter.start();
  ProgressPhase phase("baseline training", t.iterations, show_progress);
  const RunLogContext logged("baseline");
  try {
    b.curve = m.train(data.train, t, &data.test, [&](const CurvePoint& p) {
                 phase.update(p.iteration, strf("test accuracy %.1f%%", 100.0 * p.accuracy));
               }).curve;
  } catch (...) {
    meter.stop();
    throw;
  }
  const EnergyReading run = meter.stop();
  const RunLogContext evaluation("baseline evaluation");
  meter.set_workload({&recipe.model, 0, nullptr});
  meter.start();
  (void)m.accuracy(data.test, t.eval_samples);
  const EnergyReading one_eval = meter.stop();
  b.real_run_joules = run.joules;
  b.real_run_evaluation_joules = one_eval.joules * static_cast<double>(b.curve.size());
  b.real_run_joules_per_iteration = std::max(0.0, run.joules - b.real_run_evaluation_joules) /
                                    static_cast<double>(std::max<int64_t>(1, t.iterations));
}

}  // namespace

DataSplit load_split(const Recipe& recipe, const PruneOptions& options) {
  auto [train_all, test] = load_recipe_data(recipe.data, recipe.model.input);
  if (options.validation >= train_all.size())
    throw InputError(recipe.path +
                     ": key 'prune.validation': " + std::to_string(options.validation) +
                     " held-out samples leave none to train on (the training set has " +
                     std::to_string(train_all.size()) + ")");
  const int64_t n_train = train_all.size() - options.validation;
  DataSplit s;
  s.train = slice(train_all, 0, n_train, train_all.name + "[train]");
  s.validation = slice(train_all, n_train, options.validation, train_all.name + "[validation]");
  s.test = std::move(test);
  return s;
}

Model prepare_baseline(const Recipe& recipe, const PruneOptions& options, const DataSplit& data,
                       EnergyMeter& meter, BaselineResult& b, const Say& say) {
  const auto t0 = std::chrono::steady_clock::now();
  Model baseline = [&] {
    if (!options.checkpoint.empty()) {
      say("loading the baseline from " + options.checkpoint);
      b.from_checkpoint = true;
      return Model::load(options.checkpoint, recipe.model, recipe.device);
    }
    say(strf("training the baseline for %lld iterations on %lld samples",
             (long long)recipe.train.iterations, (long long)data.train.size()));
    Model m(recipe.model, recipe.train.seed, recipe.device);
    train_metered(m, recipe, data, meter, b, options.progress);
    return m;
  }();
  b.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  b.accuracy = baseline.accuracy(data.test, options.test_samples);
  b.architecture = recipe.model.summary();
  set_groups(recipe.model, b);
  b.train_flops = recipe.model.train_flops();
  b.params = recipe.model.params();
  say(strf("baseline test accuracy %.2f%% (%.1f s)", 100.0 * b.accuracy, b.train_seconds));
  return baseline;
}

void set_groups(const Architecture& model, BaselineResult& b) {
  const ChannelGroups groups = ChannelGroups::of(model);
  b.channels = groups.baseline();
  b.groups.clear();
  for (const auto& g : groups.groups()) b.groups.push_back(g.describe(model));
}

Model share_baseline(const Recipe& recipe, const PruneOptions& options, const DataSplit& data,
                     EnergyMeter* meter, BaselineResult& b, const Say& say,
                     const std::string& checkpoint, ResumeState& resume) {
  const Cluster& cluster = Cluster::world();
  std::optional<Model> baseline;
  if (cluster.root() && resume.has_baseline()) {
    say("resuming: the baseline trained by the interrupted run with these arguments");
    baseline.emplace(Model::load(resume.baseline_checkpoint(), recipe.model, recipe.device));
    resume.restore_baseline(b);
    b.accuracy = baseline->accuracy(data.test, options.test_samples);
  } else if (cluster.root()) {
    baseline.emplace(prepare_baseline(recipe, options, data, *meter, b, say));
    resume.save_baseline(*baseline, b);
  }
  if (cluster.root()) baseline->save(checkpoint);
  if (cluster.distributed()) {
    // The weights as rank 0 trained them, through a file of this rank's own.
    const std::string bytes = cluster.broadcast(cluster.root() ? read_file(checkpoint) : "");
    if (!cluster.root()) {
      const auto tmp = std::filesystem::temp_directory_path() /
                       ("thor-baseline-" + std::to_string(::getpid()) + ".ckpt");
      write_file_atomic(tmp.string(), bytes);
      baseline.emplace(Model::load(tmp.string(), recipe.model, recipe.device));
      std::filesystem::remove(tmp);
    }
  }
  b.architecture = recipe.model.summary();
  set_groups(recipe.model, b);
  b.train_flops = recipe.model.train_flops();
  b.params = recipe.model.params();
  return std::move(*baseline);
}

}  // namespace thor::pruner::detail
