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
#include <numeric>
#include <random>
#include <set>
#include <sstream>

#include "profiler_io.hpp"
#include "thor/format.hpp"
#include "thor/gp/acquisition.hpp"
#include "thor/progress.hpp"

namespace thor {

// ----------------------------------------------------------------- profiling

using detail::Journal;

namespace {

constexpr double kTwoSigma = 2.0;

// Sum of block models for a whole network (before any correction).
gp::Prediction sum_of_blocks(const DeviceProfile& profile, const Architecture& arch) {
  gp::Prediction total;
  for (const auto& b : split_blocks(arch)) {
    const auto p = profile.kinds.at(b.key).predict(b.features);
    total.mean += std::max(0.0, p.mean);
    total.variance += p.variance;
  }
  return total;
}

// One profiling run: the kinds in order, drift tracking, anchors.
class ProfilingRun {
 public:
  ProfilingRun(EnergyMeter& meter, const ProfilerOptions& options, ProfileResult& result,
               ProgressPhase& phase)
      : meter_(meter),
        o_(options),
        result_(result),
        phase_(phase),
        t_start_(std::chrono::steady_clock::now()) {}

  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start_).count();
  }

  void open_journal() {
    const MeasureOptions& mo = o_.measure;
    journal_.open(o_.journal_path, {{"journal", 2},
                                    {"meter", meter_.name()},
                                    {"iterations", mo.iterations},
                                    {"min_window_seconds", mo.min_window_seconds},
                                    {"min_warmup_seconds", mo.min_warmup_seconds},
                                    {"repeats", mo.repeats},
                                    {"warmup", mo.warmup},
                                    {"threads", mo.threads},
                                    {"device", mo.device},
                                    {"data", profile().settings.data},
                                    {"optimizer", o_.feed.train.optimizer},
                                    {"lr", o_.feed.train.lr}});
  }

  DeviceProfile& profile() { return result_.profile; }

  // Measures the reference workload; what follows until the next one is
  // judged against it (finalize() divides the host's drift out).
  void track_drift() {
    if (!o_.track_drift) return;
    MeasureOptions ro = o_.measure;
    ro.repeats = std::max(3, ro.repeats);
    const Measurement r = measure_reference(meter_, ro);
    refs_.push_back(r.joules_per_iteration);
    ref_cvs_.push_back(r.cv);
    ref_repeats_ = ro.repeats;
  }

  void profile_kind(const KindPlan& plan, size_t index, size_t count);
  void measure_anchors(const std::vector<Architecture>& architectures);
  // Divides each segment's host drift (its reference against the median of
  // all references) out of its measurements, re-derives every kind in
  // profiling order, then the anchors and the additivity corrections.
  void finalize(const std::vector<KindPlan>& plans);

 private:
  void measure_at(const KindPlan& plan, KindModel& kind, const std::vector<int64_t>& f);
  bool next_point(const KindPlan& plan, KindModel& kind, const gp::IntegerGrid& grid, size_t index,
                  size_t count, size_t min_points, size_t max_points, std::vector<int64_t>& next);

  EnergyMeter& meter_;
  const ProfilerOptions& o_;
  ProfileResult& result_;
  Journal journal_;
  ProgressPhase& phase_;
  int64_t steps_done_ = 0;  // planned points of the kinds already profiled
  std::chrono::steady_clock::time_point t_start_;
  std::set<std::vector<int64_t>> done_;
  std::vector<double> refs_, ref_cvs_;  // reference J/iter and cv, in order
  int ref_repeats_ = 3;
  // Raw (uncorrected) median and its variance per point, and the reference
  // segment each kind and the anchors were measured in.
  std::map<std::string, std::vector<std::pair<double, double>>> raw_;
  std::map<std::string, int> segment_;
  std::vector<Architecture> anchor_nets_;
  std::vector<std::pair<double, double>> anchor_raw_;
  int anchor_segment_ = -1;
  double segment_factor(int s) const;
  void derive(const KindPlan& plan, RawMeasurement& m) const;
};

void ProfilingRun::measure_at(const KindPlan& plan, KindModel& kind,
                              const std::vector<int64_t>& f) {
  const Architecture variant = plan.variant(f);
  const std::string summary = variant.summary();
  RawMeasurement m;
  auto hit = journal_.cache.find(Journal::id(plan.key, summary));
  if (hit != journal_.cache.end()) {
    m = hit->second;
    ++result_.reused;
  } else {
    ++result_.measured;
    TrainFeed feed = o_.feed;
    feed.input_grad = plan.role == BlockRole::output;  // as in the networks it is subtracted from
    const Measurement r = measure_training(variant, meter_, o_.measure, feed);
    m.variant = summary;
    m.measured = r.joules_per_iteration;
    m.cv = r.cv;
    m.seconds = r.seconds_per_iteration;
    m.flops = variant.train_flops();
    m.variance = r.median_variance();
    m.feed = r.feed;
    m.features.assign(f.begin(), f.end());
    journal_.append({{"key", plan.key},
                     {"variant", summary},
                     {"features", m.features},
                     {"measured", m.measured},
                     {"cv", m.cv},
                     {"seconds", m.seconds},
                     {"flops", m.flops},
                     {"median_variance", m.variance},
                     {"feed", m.feed}});
  }
  m.features.assign(f.begin(), f.end());
  m.drift = 1.0;
  raw_[plan.key].push_back({m.measured, m.variance});
  segment_[plan.key] = static_cast<int>(refs_.size()) - 1;
  derive(plan, m);
  kind.points.push_back(m);
  done_.insert(f);
}

// Subtractivity (eq. 1, 2): m.derived = m.measured minus the other blocks'
// predicted energy; their predictive variance joins the point's own.
void ProfilingRun::derive(const KindPlan& plan, RawMeasurement& m) const {
  std::vector<int64_t> f;
  for (double x : m.features) f.push_back(static_cast<int64_t>(std::llround(x)));
  const auto blocks = split_blocks(plan.variant(f));
  m.derived = m.measured;
  for (size_t b = 0; b < blocks.size(); ++b) {
    if (b == plan.target_block) continue;
    auto it = result_.profile.kinds.find(blocks[b].key);
    if (it == result_.profile.kinds.end() || !it->second.model.fitted())
      throw std::logic_error("profiler: companion kind " + blocks[b].key + " not profiled before " +
                             plan.key);
    const auto p = it->second.predict(blocks[b].features);
    m.derived -= p.mean;
    m.variance += p.variance;
  }
}

double ProfilingRun::segment_factor(int s) const {
  if (s < 0 || refs_.size() < 2) return 1.0;
  const double base = median(refs_);
  // The drift of reference i against the median, when it is beyond twice
  // the reference's own noise; else 0.
  auto shift = [&](size_t i) {
    const double ratio = refs_[i] / base;
    const double cv = std::max(ref_cvs_[i], median(ref_cvs_));
    const double noise = std::sqrt(2.0) * cv / std::sqrt(static_cast<double>(ref_repeats_));
    return std::fabs(ratio - 1.0) > kTwoSigma * noise ? ratio - 1.0 : 0.0;
  };
  const size_t i = static_cast<size_t>(s);
  if (i + 1 >= refs_.size()) return 1.0 + shift(i);
  // A segment lies between two references: divide out drift only when both
  // saw it, so that one reference's hiccup does not move a whole kind.
  const double before = shift(i), after = shift(i + 1);
  return before * after > 0.0 ? 1.0 + 0.5 * (before + after) : 1.0;
}

void ProfilingRun::finalize(const std::vector<KindPlan>& plans) {
  DeviceProfile& p = profile();
  if (!refs_.empty()) {
    p.reference.joules_per_iteration = median(refs_);
    p.reference.end_joules_per_iteration = refs_.back();
    p.reference.cv = median(ref_cvs_);
  }
  for (const auto& plan : plans) {
    KindModel& kind = p.kinds.at(plan.key);
    const double f = segment_factor(segment_.count(plan.key) ? segment_.at(plan.key) : -1);
    const auto& raw = raw_.at(plan.key);
    for (size_t i = 0; i < kind.points.size(); ++i) {
      RawMeasurement& m = kind.points[i];
      m.drift = f;
      m.measured = raw[i].first / f;
      m.variance = raw[i].second / (f * f);
      derive(plan, m);
    }
    kind.refit(o_.model);
  }
  const double fa = segment_factor(anchor_segment_);
  std::map<std::string, std::vector<Anchor>> by_structure;
  for (size_t i = 0; i < anchor_nets_.size(); ++i) {
    Anchor a;
    a.architecture = anchor_nets_[i].summary();
    a.structure = structure_key(anchor_nets_[i]);
    a.measured = anchor_raw_[i].first / fa;
    a.variance = anchor_raw_[i].second / (fa * fa);
    const auto e = sum_of_blocks(p, anchor_nets_[i]);
    a.estimated = e.mean;
    a.estimated_variance = e.variance;
    p.anchors.push_back(a);
    by_structure[a.structure].push_back(a);
  }
  p.additivity = fit_additivity(p.anchors);
  for (const auto& [key, list] : by_structure)
    if (list.size() >= 2) p.structure_additivity[key] = fit_additivity(list);
}

// Refits the kind and finds where it is least certain, relative to its
// predicted energy, over the whole channel box. Returns false to stop (with
// kind.stop_reason set).
bool ProfilingRun::next_point(const KindPlan& plan, KindModel& kind, const gp::IntegerGrid& grid,
                              size_t index, size_t count, size_t min_points, size_t max_points,
                              std::vector<int64_t>& next) {
  kind.refit(o_.model);
  // Uncertainty is judged against the energy of the variant network the
  // point is measured in (the kind plus its companions): a cheap layer's
  // model need not be precise relative to itself, only to what it adds to.
  double mean_abs = 0.0, companions = 0.0, variants = 0.0;
  for (const auto& p : kind.points) {
    mean_abs += std::fabs(p.derived);
    companions += p.measured - p.derived;
    variants += p.measured;
  }
  const double n = static_cast<double>(kind.points.size());
  mean_abs /= n;
  companions = std::max(0.0, companions / n);
  variants /= n;
  const Eigen::MatrixXd P = grid.points();
  double best_rel = -1.0;
  for (Eigen::Index i = 0; i < P.rows(); ++i) {
    std::vector<int64_t> f(static_cast<size_t>(P.cols()));
    for (Eigen::Index d = 0; d < P.cols(); ++d) f[static_cast<size_t>(d)] = std::llround(P(i, d));
    if (done_.count(f)) continue;
    const double x[2] = {P(i, 0), P.cols() > 1 ? P(i, 1) : 0.0};
    const auto pr = kind.model.predict(x);
    const double rel =
        std::sqrt(pr.variance) / (std::max(std::fabs(pr.mean), 0.05 * mean_abs) + companions);
    if (rel > best_rel) {
      best_rel = rel;
      next = f;
    }
  }
  const double loo = kind.model.loo_rms() / std::max(1e-30, variants);
  phase_.update(steps_done_ + static_cast<int64_t>(kind.points.size()),
                strf("kind %zu/%zu %s, %zu points, std %.1f%% (stop < %.1f%%)", index + 1, count,
                     plan.key.c_str(), kind.points.size(), 100.0 * std::max(0.0, best_rel),
                     100.0 * o_.std_fraction));
  if (best_rel < 0) {
    kind.stop_reason = "every channel count measured";
    return false;
  }
  if (kind.points.size() >= min_points && best_rel < o_.std_fraction && loo < o_.loo_fraction) {
    std::ostringstream s;
    s << "max relative std " << best_rel * 100 << "% < " << o_.std_fraction * 100
      << "% and leave-one-out error " << loo * 100 << "% < " << o_.loo_fraction * 100
      << "% (of the variant's energy)";
    kind.stop_reason = s.str();
    return false;
  }
  if (kind.points.size() >= max_points) {
    kind.stop_reason = "reached max_points";
    return false;
  }
  if (o_.time_budget_s > 0 && elapsed() > o_.time_budget_s) {
    kind.stop_reason = "time budget spent";
    return false;
  }
  return true;
}

void ProfilingRun::profile_kind(const KindPlan& plan, size_t index, size_t count) {
  const auto t_kind = std::chrono::steady_clock::now();
  KindModel kind;
  kind.key = plan.key;
  kind.role = plan.role;
  kind.lower = plan.lower;
  kind.upper = plan.upper;
  const size_t dims = plan.lower.size();
  const size_t max_points = dims == 1 ? size_t(o_.max_points) : size_t(o_.max_points) * 7 / 4;
  const size_t min_points =
      std::min(max_points, dims == 1 ? size_t(o_.min_points) : size_t(o_.min_points) * 2);
  done_.clear();

  // Start at the corners and the centre of the box (the ends alone leave a
  // 1-D kind's middle to a straight line).
  std::vector<std::vector<int64_t>> starts;
  const auto step = [&](size_t d) { return d < plan.multiple.size() ? plan.multiple[d] : 1; };
  const auto mid = [&](size_t d) {
    return plan.lower[d] + (plan.upper[d] - plan.lower[d]) / 2 / step(d) * step(d);
  };
  if (dims == 1) {
    starts = {{plan.lower[0]}, {plan.upper[0]}, {mid(0)}};
  } else {
    starts = {{plan.lower[0], plan.lower[1]},
              {plan.upper[0], plan.upper[1]},
              {plan.lower[0], plan.upper[1]},
              {plan.upper[0], plan.lower[1]},
              {mid(0), mid(1)}};
  }
  for (const auto& s : starts)
    if (!done_.count(s)) measure_at(plan, kind, s);

  gp::IntegerGrid grid;
  grid.lower = plan.lower;
  grid.upper = plan.upper;
  for (size_t d = 0; d < dims; ++d) grid.step.push_back(step(d));
  // Large ranges: a coarser grid keeps acquisition cheap without losing much.
  while (grid.size() > 20000)
    for (auto& st : grid.step) st *= 2;

  if (!o_.guided) {
    // Evenly spaced points over the range, as many as guided profiling may use.
    const size_t per_dim =
        dims == 1 ? max_points : static_cast<size_t>(std::floor(std::sqrt(double(max_points))));
    std::vector<std::vector<int64_t>> grid_points;
    auto at = [&](size_t d, size_t i) {
      const double x = (plan.upper[d] - plan.lower[d]) * double(i) /
                       double(std::max<size_t>(1, per_dim - 1)) / double(step(d));
      return plan.lower[d] + std::llround(x) * step(d);
    };
    for (size_t i = 0; i < per_dim; ++i) {
      if (dims == 1)
        grid_points.push_back({at(0, i)});
      else
        for (size_t k = 0; k < per_dim; ++k) grid_points.push_back({at(0, i), at(1, k)});
    }
    for (const auto& g : grid_points)
      if (!done_.count(g) && kind.points.size() < max_points) measure_at(plan, kind, g);
    kind.refit(o_.model);
    kind.stop_reason = "uniform grid";
  } else {
    std::vector<int64_t> next;
    while (next_point(plan, kind, grid, index, count, min_points, max_points, next))
      measure_at(plan, kind, next);
  }
  kind.profile_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_kind).count();
  steps_done_ += static_cast<int64_t>(max_points);
  phase_.update(steps_done_);
  profile().kinds[kind.key] = std::move(kind);
}

void ProfilingRun::measure_anchors(const std::vector<Architecture>& architectures) {
  // Per given architecture: itself, then random members of its family
  // (channels uniform in channel_lower..base), `anchors` in all. A search
  // space's many structures share a budget of 4 families' worth, each
  // structure keeping at least its own base network.
  std::vector<Architecture> nets;
  std::mt19937_64 rng(o_.anchor_seed);
  const size_t families = std::max<size_t>(4, architectures.size());
  const int per_family = std::max<int>(1, static_cast<int>(o_.anchors * 4 / families));
  for (const auto& base : architectures) {
    nets.push_back(base);
    const auto ch = base.channels();
    for (int k = 1; k < per_family; ++k) {
      std::vector<int64_t> c;
      for (size_t j = 0; j + 1 < ch.size(); ++j)
        c.push_back(
            std::uniform_int_distribution<int64_t>(std::min(o_.channel_lower, ch[j]), ch[j])(rng));
      nets.push_back(conform_widths(base, c));
    }
  }
  anchor_segment_ = static_cast<int>(refs_.size()) - 1;
  for (const auto& net : nets) {
    const Measurement r = measure_training(net, meter_, o_.measure, o_.feed);
    phase_.update(++steps_done_, "anchor networks (additivity check)");
    anchor_nets_.push_back(net);
    anchor_raw_.push_back({r.joules_per_iteration, r.median_variance()});
  }
}

}  // namespace

ProfileResult run_profiler(const std::vector<Architecture>& architectures, EnergyMeter& meter,
                           const MeterOptions& meter_options, const ProfilerOptions& options) {
  options.validate();
  const auto plans = plan_profiling(architectures, options.channel_lower);
  ProfileResult result;
  const std::vector<int64_t> data_shape =
      architectures.empty() ? std::vector<int64_t>{} : architectures[0].input;
  result.profile.settings =
      ProfileSettings::current(meter, meter_options, options.measure, options.feed, data_shape);
  // The status line counts planned points: a kind that stops early skips
  // the rest of its share, so the ETA is an upper bound.
  // Anchors: measure_anchors' count (members per family, families >= 4).
  const int64_t n = static_cast<int64_t>(architectures.size());
  int64_t planned = options.anchors > 0
                        ? n * std::max<int64_t>(1, options.anchors * 4 / std::max<int64_t>(4, n))
                        : 0;
  for (const auto& p : plans)
    planned += p.lower.size() == 1 ? options.max_points : options.max_points * 7 / 4;
  ProgressPhase phase("profiling", planned, options.progress);
  ProfilingRun run(meter, options, result, phase);
  run.open_journal();
  for (size_t ki = 0; ki < plans.size(); ++ki) {
    run.track_drift();
    run.profile_kind(plans[ki], ki, plans.size());
  }
  run.track_drift();
  if (options.anchors > 0) run.measure_anchors(architectures);
  run.finalize(plans);
  DeviceProfile& profile = result.profile;
  profile.flops = fit_flops_baseline(profile);
  profile.profile_seconds = run.elapsed();
  result.message = "profiled " + std::to_string(profile.kinds.size()) +
                   " layer kinds: " + std::to_string(result.measured) + " variants measured, " +
                   std::to_string(result.reused) + " reused from the journal; " +
                   std::to_string(profile.anchors.size()) + " anchor networks";
  return result;
}

}  // namespace thor
