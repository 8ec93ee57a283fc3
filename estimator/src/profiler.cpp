#include "thor/profiler.hpp"

#include <unistd.h>

#include <Eigen/Core>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>

#include "thor/gp/acquisition.hpp"

namespace thor {

void ProfilerOptions::validate() const {
  if (max_points < 2) throw InputError("profile.max_points = " + std::to_string(max_points) + ": expected >= 2");
  if (min_points < 2) throw InputError("profile.min_points = " + std::to_string(min_points) + ": expected >= 2");
  if (!(std_fraction > 0.0 && std_fraction < 1.0))
    throw InputError("profile.std_fraction = " + std::to_string(std_fraction) + ": expected 0 < x < 1");
  if (!(time_budget_s >= 0.0)) throw InputError("profile.time_budget_s must be >= 0");
  if (channel_lower < 1) throw InputError("profile.channel_lower must be >= 1");
  measure.validate();
  gp.validate();
}

ProfilerOptions profiler_options(const Recipe& recipe) {
  ProfilerOptions o;
  o.max_points = recipe.profile.max_points;
  o.min_points = recipe.profile.min_points;
  o.std_fraction = recipe.profile.std_fraction;
  o.time_budget_s = recipe.profile.time_budget_s;
  o.measure = recipe.profile.measure;
  return o;
}

// ------------------------------------------------------------------ planning

namespace {

std::vector<Layer> strip_trailing_flatten(std::vector<Layer> layers) {
  while (!layers.empty() && layers.back().type == LayerType::flatten) layers.pop_back();
  return layers;
}

std::vector<Layer> with_param_out(std::vector<Layer> layers, int64_t out) {
  for (auto& l : layers)
    if (l.parametric()) l.out = out;
  return layers;
}

// Appends "flatten (if needed) + linear(classes)" so the variant ends in scores.
void append_output(Architecture& a, int64_t classes) {
  a.layers = strip_trailing_flatten(a.layers);
  const auto infos = a.infer();
  if (infos.back().out_shape.size() == 3) a.layers.push_back(Layer::simple(LayerType::flatten));
  a.layers.push_back(Layer::linear(classes));
}

struct Planner {
  std::vector<KindPlan> outputs, inputs, hidden;
  std::map<std::string, KindPlan*> by_key;

  void merge(std::vector<KindPlan>& list, KindPlan plan) {
    auto it = by_key.find(plan.key);
    if (it != by_key.end()) {
      for (size_t d = 0; d < plan.upper.size(); ++d) {
        it->second->upper[d] = std::max(it->second->upper[d], plan.upper[d]);
        it->second->lower[d] = std::min(it->second->lower[d], plan.lower[d]);
      }
      return;
    }
    list.push_back(std::move(plan));
    // Pointers into vectors move on growth: rebuild the index.
    by_key.clear();
    for (auto* l : {&outputs, &inputs, &hidden})
      for (auto& p : *l) by_key[p.key] = &p;
  }

  // 1-layer variant: data of the block's input shape with C = c, the block.
  void add_output(const LayerBlock& blk, int64_t batch, int64_t lo, int64_t hi) {
    KindPlan p;
    p.key = blk.key;
    p.role = BlockRole::output;
    p.lower = {lo};
    p.upper = {hi};
    p.target_block = 0;
    const std::vector<int64_t> shape = blk.in_structured;
    std::vector<Layer> layers = blk.layers;
    const bool has_leading = blk.first != blk.param;
    if (blk.flattened_input && !has_leading) layers.insert(layers.begin(), Layer::simple(LayerType::flatten));
    p.variant = [shape, layers, batch](const std::vector<int64_t>& f) {
      Architecture a;
      a.input = shape;
      a.input[0] = f[0];
      a.batch_size = batch;
      a.layers = layers;
      return a;
    };
    check(p, blk.key, {hi});
    merge(outputs, std::move(p));
  }

  // 2-layer variant: data → the block with C_out = c → output layer.
  void add_input(const LayerBlock& blk, const std::vector<int64_t>& data, int64_t batch, int64_t classes,
                 int64_t lo, int64_t hi) {
    KindPlan p;
    p.key = blk.key;
    p.role = BlockRole::input;
    p.lower = {lo};
    p.upper = {hi};
    p.target_block = 0;
    const std::vector<Layer> layers = blk.layers;
    p.variant = [data, layers, batch, classes](const std::vector<int64_t>& f) {
      Architecture a;
      a.input = data;
      a.batch_size = batch;
      a.layers = with_param_out(layers, f[0]);
      append_output(a, classes);
      return a;
    };
    const Architecture top = p.variant({hi});
    const auto vb = split_blocks(top);
    add_output(vb[1], batch, lo, hi);
    check(p, blk.key, {hi});
    merge(inputs, std::move(p));
  }

  // 3-layer variant: adapter (C_out = c1) → the block (C_out = c2) → output layer.
  void add_hidden(const LayerBlock& blk, const Architecture& arch, const LayerBlock& first, int64_t classes,
                  const std::vector<int64_t>& lo, const std::vector<int64_t>& hi) {
    const int64_t batch = arch.batch_size;
    const std::vector<Layer> body = strip_trailing_flatten(blk.layers);
    const bool flat_in = blk.flattened_input;
    auto make = [body, flat_in, batch, classes](const std::vector<int64_t>& data, const std::vector<Layer>& adapter) {
      return [=](const std::vector<int64_t>& f) {
        Architecture a;
        a.input = data;
        a.batch_size = batch;
        a.layers = strip_trailing_flatten(with_param_out(adapter, f[0]));
        if (flat_in) a.layers.push_back(Layer::simple(LayerType::flatten));
        for (const auto& l : with_param_out(body, f[1])) a.layers.push_back(l);
        append_output(a, classes);
        return a;
      };
    };
    // Prefer the architecture's own input block as the adapter (fewer kinds);
    // fall back to a 1x1 conv on data of the right size, or a linear layer.
    std::vector<std::function<Architecture(const std::vector<int64_t>&)>> options;
    options.push_back(make(arch.input, first.layers));
    if (blk.in_structured.size() == 3) {
      const std::vector<int64_t> data{arch.input[0], blk.in_structured[1], blk.in_structured[2]};
      options.push_back(make(data, {Layer::conv(1, 1)}));
    } else {
      options.push_back(make({64}, {Layer::linear(1)}));
    }
    for (auto& variant : options) {
      Architecture top;
      try {
        top = variant(hi);
      } catch (const InputError&) {
        continue;
      }
      const auto vb = split_blocks(top);
      if (vb.size() != 3 || vb[1].key != blk.key) continue;
      KindPlan p;
      p.key = blk.key;
      p.role = BlockRole::hidden;
      p.lower = lo;
      p.upper = hi;
      p.target_block = 1;
      p.variant = variant;
      add_output(vb[2], batch, lo[1], hi[1]);
      add_input(vb[0], top.input, batch, classes, lo[0], hi[0]);
      merge(hidden, std::move(p));
      return;
    }
    throw std::logic_error("profiler: no 3-layer variant reproduces hidden kind " + blk.key);
  }

  static void check(const KindPlan& p, const std::string& key, const std::vector<int64_t>& at) {
    const auto vb = split_blocks(p.variant(at));
    if (vb.at(p.target_block).key != key)
      throw std::logic_error("profiler: variant of " + key + " parses as " + vb.at(p.target_block).key);
  }
};

}  // namespace

std::vector<KindPlan> plan_profiling(const std::vector<Architecture>& architectures, int64_t lo) {
  Planner planner;
  for (const auto& arch : architectures) {
    const auto blocks = split_blocks(arch);
    const int64_t classes = arch.num_outputs();
    for (const auto& b : blocks) {
      switch (b.role) {
        case BlockRole::output:
          planner.add_output(b, arch.batch_size, lo, std::max(lo, b.c_in));
          break;
        case BlockRole::input:
          planner.add_input(b, arch.input, arch.batch_size, classes, lo, std::max(lo, b.c_out));
          break;
        case BlockRole::hidden:
          planner.add_hidden(b, arch, blocks.front(), classes, {lo, lo},
                             {std::max(lo, b.c_in), std::max(lo, b.c_out)});
          break;
      }
    }
  }
  std::vector<KindPlan> out;
  for (auto* l : {&planner.outputs, &planner.inputs, &planner.hidden})
    for (auto& p : *l) out.push_back(p);
  return out;
}

// ----------------------------------------------------------------- profiling

void refit_kind(KindModel& kind, const gp::Options& options) {
  if (kind.points.empty()) return;
  const Eigen::Index n = static_cast<Eigen::Index>(kind.points.size());
  const Eigen::Index d = static_cast<Eigen::Index>(kind.points[0].features.size());
  Eigen::MatrixXd X(n, d);
  Eigen::VectorXd y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index k = 0; k < d; ++k) X(i, k) = kind.points[i].features[k];
    y(i) = kind.points[i].derived;
  }
  gp::GaussianProcess model(options);
  model.fit(X, y);
  kind.gp = std::move(model);
}

namespace {

struct Journal {
  std::string path;
  std::map<std::string, RawMeasurement> cache;  // by key + "|" + variant summary

  static std::string id(const std::string& key, const std::string& variant) { return key + "|" + variant; }

  void open(const std::string& p, const nlohmann::json& header) {
    path = p;
    if (path.empty()) return;
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    std::ifstream in(path);
    if (in) {
      std::string line;
      bool first = true;
      while (std::getline(in, line)) {
        nlohmann::json j;
        try {
          j = nlohmann::json::parse(line);
        } catch (const std::exception&) {
          continue;  // a line cut by a kill: that measurement is taken again
        }
        if (first) {
          first = false;
          if (j.contains("journal")) {
            if (j != header)
              throw InputError(path + ": journal was written with other settings (" + j.dump() +
                               "); delete it or choose another output");
            continue;
          }
        }
        if (!j.contains("key")) continue;
        RawMeasurement m;
        m.features = j.at("features").get<std::vector<double>>();
        m.variant = j.at("variant").get<std::string>();
        m.measured = j.at("measured").get<double>();
        m.cv = j.at("cv").get<double>();
        m.seconds = j.at("seconds").get<double>();
        m.flops = j.at("flops").get<double>();
        cache[id(j.at("key").get<std::string>(), m.variant)] = m;
      }
      if (!first) return;
    }
    append(header);
  }

  void append(const nlohmann::json& j) {
    if (path.empty()) return;
    FILE* f = std::fopen(path.c_str(), "a");
    if (!f) throw InputError(path + ": cannot open journal for appending");
    const std::string line = j.dump() + "\n";
    std::fwrite(line.data(), 1, line.size(), f);
    std::fflush(f);
    ::fsync(fileno(f));
    std::fclose(f);
  }
};

class Progress {
 public:
  explicit Progress(bool on) : on_(on), tty_(on && ::isatty(STDERR_FILENO)) {}
  void update(size_t kind_index, size_t kinds, const std::string& key, size_t points, size_t max_points,
              double rel_std, double target, double elapsed) {
    if (!on_) return;
    std::ostringstream s;
    s << "[kind " << kind_index + 1 << "/" << kinds << "] " << key << "  points " << points << "/" << max_points;
    if (rel_std >= 0) s << "  std " << std::fixed << std::setprecision(1) << rel_std * 100 << "% (stop < " << target * 100 << "%)";
    s << "  " << std::fixed << std::setprecision(1) << elapsed << " s";
    if (tty_) {
      const int width = 20;
      const int filled = static_cast<int>(width * (kind_index + double(points) / std::max<size_t>(1, max_points)) / kinds);
      std::cerr << "\r\033[K[" << std::string(std::min(filled, width), '#') << std::string(width - std::min(filled, width), '.')
                << "] " << s.str() << std::flush;
    } else {
      std::cerr << "profile: " << s.str() << "\n";
    }
  }
  void done() {
    if (tty_) std::cerr << "\n";
  }

 private:
  bool on_, tty_;
};

}  // namespace

ProfileResult run_profiler(const std::vector<Architecture>& architectures, EnergyMeter& meter,
                           const MeterOptions& meter_options, const ProfilerOptions& options) {
  options.validate();
  const auto t_start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count(); };
  const auto plans = plan_profiling(architectures, options.channel_lower);

  ProfileResult result;
  DeviceProfile& profile = result.profile;
  const MeasureOptions& mo = options.measure;
  profile.settings = ProfileSettings::current(meter, meter_options, mo.threads, mo.flush_denormal, mo.iterations,
                                              mo.repeats, mo.warmup, mo.device);
  Journal journal;
  journal.open(options.journal_path, {{"journal", 1},
                                      {"meter", meter.name()},
                                      {"iterations", mo.iterations},
                                      {"repeats", mo.repeats},
                                      {"warmup", mo.warmup},
                                      {"threads", mo.threads},
                                      {"device", mo.device}});
  Progress progress(options.progress);

  for (size_t ki = 0; ki < plans.size(); ++ki) {
    const KindPlan& plan = plans[ki];
    const auto t_kind = std::chrono::steady_clock::now();
    KindModel kind;
    kind.key = plan.key;
    kind.role = plan.role;
    kind.lower = plan.lower;
    kind.upper = plan.upper;
    const size_t dims = plan.lower.size();
    const size_t max_points = dims == 1 ? options.max_points : options.max_points * 3 / 2;
    const size_t min_points = std::min(max_points, dims == 1 ? size_t(options.min_points) : size_t(options.min_points) * 3 / 2);
    std::set<std::vector<int64_t>> done;

    auto measure_at = [&](const std::vector<int64_t>& f) {
      const Architecture variant = plan.variant(f);
      const std::string summary = variant.summary();
      RawMeasurement m;
      auto hit = journal.cache.find(Journal::id(plan.key, summary));
      if (hit != journal.cache.end()) {
        m = hit->second;
        ++result.reused;
      } else {
        ++result.measured;
        const Measurement r = measure_training(variant, meter, mo);
        m.variant = summary;
        m.measured = r.joules_per_iteration;
        m.cv = r.cv;
        m.seconds = r.seconds_per_iteration;
        m.flops = variant.train_flops();
        m.features.assign(f.begin(), f.end());
        journal.append({{"key", plan.key}, {"variant", summary}, {"features", m.features}, {"measured", m.measured},
                        {"cv", m.cv}, {"seconds", m.seconds}, {"flops", m.flops}});
      }
      m.features.assign(f.begin(), f.end());
      // Subtractivity (eq. 1, 2): remove the other blocks' predicted energy.
      const auto blocks = split_blocks(variant);
      m.derived = m.measured;
      for (size_t b = 0; b < blocks.size(); ++b) {
        if (b == plan.target_block) continue;
        auto it = profile.kinds.find(blocks[b].key);
        if (it == profile.kinds.end() || !it->second.gp)
          throw std::logic_error("profiler: companion kind " + blocks[b].key + " not profiled before " + plan.key);
        m.derived -= it->second.predict(blocks[b].features).mean;
      }
      kind.points.push_back(m);
      done.insert(f);
    };

    // Start at the corners of the range (the paper's bounds).
    std::vector<std::vector<int64_t>> starts;
    if (dims == 1) {
      starts = {{plan.lower[0]}, {plan.upper[0]}};
    } else {
      starts = {{plan.lower[0], plan.lower[1]}, {plan.upper[0], plan.upper[1]},
                {plan.lower[0], plan.upper[1]}, {plan.upper[0], plan.lower[1]}};
    }
    for (const auto& s : starts)
      if (!done.count(s)) measure_at(s);
    if (!options.guided) {
      // Evenly spaced points over the range, as many as guided profiling may use.
      const size_t per_dim = dims == 1 ? max_points : static_cast<size_t>(std::floor(std::sqrt(double(max_points))));
      std::vector<std::vector<double>> axes(dims);
      for (size_t d = 0; d < dims; ++d)
        for (size_t i = 0; i < per_dim; ++i)
          axes[d].push_back(plan.lower[d] + (plan.upper[d] - plan.lower[d]) * double(i) / std::max<size_t>(1, per_dim - 1));
      std::vector<std::vector<int64_t>> grid_points;
      if (dims == 1) {
        for (double v : axes[0]) grid_points.push_back({std::llround(v)});
      } else {
        for (double a : axes[0])
          for (double b : axes[1]) grid_points.push_back({std::llround(a), std::llround(b)});
      }
      for (const auto& g : grid_points)
        if (!done.count(g) && kind.points.size() < max_points) measure_at(g);
      refit_kind(kind, options.gp);
      kind.stop_reason = "uniform grid";
      kind.profile_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_kind).count();
      profile.kinds[kind.key] = std::move(kind);
      continue;
    }

    gp::IntegerGrid grid;
    grid.lower = plan.lower;
    grid.upper = plan.upper;
    grid.step.assign(dims, 1);
    // Large ranges: a coarser grid keeps acquisition cheap without losing much.
    while (grid.size() > 20000)
      for (auto& s : grid.step) s *= 2;

    kind.stop_reason = "max_points";
    while (true) {
      refit_kind(kind, options.gp);
      // The paper's rule compares the std with the profiled data; we use the
      // layer's own (derived) energies, not the whole variant's, so that a
      // cheap layer inside a costly variant is still sampled enough.
      double mean_measured = 0.0;
      for (const auto& p : kind.points) mean_measured += std::fabs(p.derived);
      mean_measured /= kind.points.size();
      Eigen::MatrixXd exclude(kind.points.size(), dims);
      for (size_t i = 0; i < kind.points.size(); ++i)
        for (size_t d = 0; d < dims; ++d) exclude(i, d) = kind.points[i].features[d];
      const auto best = gp::max_variance_candidate(*kind.gp, grid, exclude);
      const double rel_std = best ? best->std() / std::max(1e-30, std::fabs(mean_measured)) : 0.0;
      progress.update(ki, plans.size(), plan.key, kind.points.size(), max_points, rel_std, options.std_fraction,
                      elapsed());
      if (!best) {
        kind.stop_reason = "every channel count measured";
        break;
      }
      if (rel_std < options.std_fraction && kind.points.size() >= min_points) {
        kind.stop_reason = "max std below " + std::to_string(options.std_fraction) + " of the mean measured value";
        break;
      }
      if (kind.points.size() >= max_points) {
        kind.stop_reason = "reached max_points";
        break;
      }
      if (options.time_budget_s > 0 && elapsed() > options.time_budget_s) {
        kind.stop_reason = "time budget spent";
        break;
      }
      std::vector<int64_t> next(dims);
      for (size_t d = 0; d < dims; ++d) next[d] = static_cast<int64_t>(std::llround(best->x(d)));
      if (done.count(next)) break;
      measure_at(next);
    }
    kind.profile_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_kind).count();
    profile.kinds[kind.key] = std::move(kind);
  }
  progress.done();
  profile.flops = fit_flops_baseline(profile);
  profile.profile_seconds = elapsed();
  result.message = "profiled " + std::to_string(profile.kinds.size()) + " layer kinds: " +
                   std::to_string(result.measured) + " variants measured, " + std::to_string(result.reused) +
                   " reused from the journal";
  return result;
}

}  // namespace thor
