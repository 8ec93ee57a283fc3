#include "thor/estimator.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "thor/run_log.hpp"

namespace thor {

void EstimatorOptions::validate() const {
  if (threads < 0)
    throw InputError("estimator.threads = " + std::to_string(threads) + ": expected >= 0");
  if (!(drift > 0.0 && drift < 100.0))
    throw InputError("estimator.drift = " + std::to_string(drift) + ": expected 0 < x < 100");
  if (!(drift_relative_std >= 0.0)) throw InputError("estimator.drift_relative_std must be >= 0");
}

std::string EstimateResult::one_line() const {
  std::ostringstream s;
  s << std::setprecision(4) << joules_per_iteration << " J/iter ± " << std << " (" << layers.size()
    << " blocks)";
  return s.str();
}

std::string EstimateResult::full_report() const {
  std::ostringstream s;
  s << std::left << std::setw(6) << "block" << std::setw(8) << "role" << std::setw(14) << "features"
    << std::right << std::setw(12) << "J/iter" << std::setw(12) << "std"
    << "  kind\n";
  for (const auto& l : layers) {
    std::string f;
    for (size_t i = 0; i < l.features.size(); ++i)
      f += (i ? "," : "") + std::to_string(static_cast<int64_t>(l.features[i]));
    s << std::left << std::setw(6) << l.block << std::setw(8) << to_string(l.role) << std::setw(14)
      << f << std::right << std::setw(12) << std::setprecision(4) << l.joules << std::setw(12)
      << l.std << "  " << l.key << (l.fallback ? "  [FLOPs fallback]" : "") << "\n";
  }
  s << "total " << one_line() << "\n";
  if (!basis.empty()) s << "basis: " << basis << "\n";
  return s.str();
}

Estimator::Estimator(DeviceProfile profile, EstimatorOptions options)
    : profile_(std::move(profile)), options_(options) {
  options_.validate();
  for (auto& [key, kind] : profile_.kinds)
    if (!kind.model.fitted()) throw InputError("profile: kind '" + key + "' has no fitted model");
  // Measurement noise of a network: the anchors' median variance, relative.
  for (const auto& a : profile_.anchors)
    if (a.measured > 0) anchor_noise_ += a.variance / (a.measured * a.measured);
  if (!profile_.anchors.empty()) anchor_noise_ /= static_cast<double>(profile_.anchors.size());
}

double Estimator::factor(const std::string& structure) const {
  return profile_.additivity_for(structure).scale * options_.drift;
}

double Estimator::extra_relative_variance(const std::string& structure) const {
  const double noise = anchor_noise_;
  const double add = profile_.additivity_for(structure).relative_std,
               drift = options_.drift_relative_std;
  return add * add + drift * drift + noise;
}

std::string Estimator::basis() const {
  const ProfileSettings& s = profile_.settings;
  std::ostringstream o;
  o << (s.data == kStandIn ? "profiled on the stand-in (" + s.data + "), not on real data"
                           : "profiled on " + s.data)
    << "; " << s.optimizer << " lr " << s.lr;
  if (s.optimizer == "sgd") o << " momentum " << s.momentum;
  if (s.weight_decay > 0) o << " weight decay " << s.weight_decay;
  return o.str();
}

double Estimator::flops_estimate(const Architecture& arch) const {
  return profile_.flops.predict(arch.train_flops());
}

EstimateResult Estimator::estimate(const Architecture& arch) const {
  const auto blocks = split_blocks(arch);
  const auto infos = arch.infer();
  EstimateResult r;
  r.flops = arch.train_flops();
  r.flops_joules = profile_.flops.predict(r.flops);
  r.basis = basis();
  double var = 0.0;
  for (size_t b = 0; b < blocks.size(); ++b) {
    const auto& blk = blocks[b];
    LayerEstimate le;
    le.block = b;
    le.key = blk.key;
    le.role = blk.role;
    le.features = blk.features;
    for (size_t i = blk.first; i <= blk.last; ++i) le.flops += infos[i].train_flops;
    auto it = profile_.kinds.find(blk.key);
    if (it == profile_.kinds.end()) {
      if (!options_.flops_fallback)
        throw InputError("estimate: the profile has no model for layer kind '" + blk.key +
                         "' (block " + std::to_string(b) +
                         "); profile this architecture, or use the FLOPs fallback");
      le.fallback = true;
      le.joules = profile_.flops.a * le.flops;
      le.std = 0.0;
      r.status = EstimateStatus::missing_kind;
      r.message += (r.message.empty() ? "FLOPs fallback for: " : ", ") + blk.key;
    } else {
      const auto p = it->second.predict(blk.features);
      le.joules = std::max(0.0, p.mean);  // no block costs negative energy
      le.std = p.std();
    }
    r.joules_per_iteration += le.joules;
    var += le.std * le.std;
    r.layers.push_back(std::move(le));
  }
  if (r.status == EstimateStatus::missing_kind) r.joules_per_iteration += profile_.flops.b;
  const std::string structure = structure_key(blocks);
  const double f = factor(structure);
  r.joules_per_iteration *= f;
  for (auto& l : r.layers) {
    l.joules *= f;
    l.std *= f;
  }
  r.model_std = f * std::sqrt(var);
  r.std =
      std::sqrt(r.model_std * r.model_std + extra_relative_variance(structure) *
                                                r.joules_per_iteration * r.joules_per_iteration);
  return r;
}

std::vector<EstimateResult> Estimator::estimate_batch(
    const std::vector<Architecture>& archs) const {
  std::vector<EstimateResult> out(archs.size());
  tbb::task_arena arena(options_.threads > 0 ? options_.threads : tbb::task_arena::automatic);
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<size_t>(0, archs.size()),
                      [&](const tbb::blocked_range<size_t>& r) {
                        for (size_t i = r.begin(); i != r.end(); ++i) out[i] = estimate(archs[i]);
                      });
  });
  return out;
}

EstimatePlan Estimator::plan(const Architecture& arch) const {
  const auto blocks = split_blocks(arch);
  EstimatePlan p;
  p.n_params_ = blocks.size();
  p.data_channels_ = arch.input_channels();
  const std::string structure = structure_key(blocks);
  p.factor_ = factor(structure);
  p.extra_rel_var_ = extra_relative_variance(structure);
  int width_from = -1;  // the block whose C_out is the next block's C_in (-1: the data)
  for (size_t b = 0; b < blocks.size(); ++b) {
    auto it = profile_.kinds.find(blocks[b].key);
    if (it == profile_.kinds.end())
      throw InputError("estimate: the profile has no model for layer kind '" + blocks[b].key + "'");
    EstimatePlan::Term t;
    t.kind = &it->second;
    // A tied (identity ResNet) block's one feature is C_out, as an input block's.
    t.role =
        blocks[b].tied && blocks[b].role == BlockRole::hidden ? BlockRole::input : blocks[b].role;
    t.c_in = width_from;
    t.c_out = b + 1 == blocks.size() ? -1 : static_cast<int>(b);
    if (arch.layers[blocks[b].param].sets_width()) width_from = static_cast<int>(b);
    p.terms_.push_back(t);
  }
  return p;
}

namespace {
// Features of a term from the channel vector (see block_features()); returns their count.
inline int fill_features(int c_in_idx, int c_out_idx, BlockRole role, const int64_t* ch,
                         int64_t data_c, double* x) {
  const double c_in =
      c_in_idx < 0 ? static_cast<double>(data_c) : static_cast<double>(ch[c_in_idx]);
  switch (role) {
    case BlockRole::input:
      x[0] = static_cast<double>(ch[c_out_idx]);
      return 1;
    case BlockRole::output:
      x[0] = c_in;
      return 1;
    case BlockRole::hidden:
      x[0] = c_in;
      x[1] = static_cast<double>(ch[c_out_idx]);
      return 2;
  }
  return 0;
}
}  // namespace

double EstimatePlan::mean(const int64_t* channels) const {
  double total = 0.0;
  double x[2];
  for (const auto& t : terms_) {
    fill_features(t.c_in, t.c_out, t.role, channels, data_channels_, x);
    total += std::max(0.0, t.kind->model.predict_mean(x));
  }
  return factor_ * total;
}

gp::Prediction EstimatePlan::predict(const int64_t* channels) const {
  gp::Prediction total;
  double x[2];
  for (const auto& t : terms_) {
    fill_features(t.c_in, t.c_out, t.role, channels, data_channels_, x);
    const auto p = t.kind->model.predict(x);
    total.mean += std::max(0.0, p.mean);
    total.variance += p.variance;
  }
  total.mean *= factor_;
  total.variance = factor_ * factor_ * total.variance + extra_rel_var_ * total.mean * total.mean;
  return total;
}

std::vector<double> Estimator::mean_batch(const EstimatePlan& plan,
                                          const std::vector<int64_t>& channels) const {
  const size_t k = std::max<size_t>(1, plan.num_channels());
  const size_t n = channels.size() / k;
  std::vector<double> out(n);
  tbb::task_arena arena(options_.threads > 0 ? options_.threads : tbb::task_arena::automatic);
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<size_t>(0, n, 4096),
                      [&](const tbb::blocked_range<size_t>& r) {
                        for (size_t i = r.begin(); i != r.end(); ++i)
                          out[i] = plan.mean(channels.data() + i * k);
                      });
  });
  return out;
}

void DriftCheck::apply(EstimatorOptions& options) const {
  options.drift = significant ? ratio : 1.0;
  options.drift_relative_std = relative_std;
}

DriftCheck check_drift(const DeviceProfile& profile, EnergyMeter& meter,
                       const MeasureOptions& options, double tolerance) {
  if (!profile.reference.measured())
    throw InputError("profile: no reference workload recorded; profile again to check drift");
  MeasureOptions o = options;
  o.repeats = std::max(3, o.repeats);
  const Measurement now = measure_reference(meter, o);
  DriftCheck d;
  d.ratio = now.joules_per_iteration / profile.reference.joules_per_iteration;
  const double cv = std::max(now.cv, profile.reference.cv);
  d.relative_std = std::sqrt(2.0) * cv / std::sqrt(static_cast<double>(o.repeats));
  d.significant = std::fabs(d.ratio - 1.0) > 2.0 * d.relative_std;
  d.beyond_tolerance = std::fabs(d.ratio - 1.0) > tolerance;
  std::ostringstream s;
  s << std::showpos << std::setprecision(3) << 100.0 * (d.ratio - 1.0) << std::noshowpos
    << "% host drift since profiling (reference workload, ±" << 100.0 * d.relative_std << "%)";
  if (d.significant) s << "; estimates rescaled";
  if (d.beyond_tolerance)
    s << "; beyond the " << 100.0 * tolerance << "% tolerance: consider profiling again";
  d.message = s.str();
  return d;
}

std::unique_ptr<RunLog> open_run_log(const std::string& folder, const std::string& program,
                                     const EnergyMeter* meter) {
  if (!meter) return nullptr;
  return std::make_unique<RunLog>(
      RunLogOptions{folder, "run_log", "", program, to_string(describe_host()), meter->describe()});
}

void log_estimate(const std::string& what, const std::string& subject, const EstimateResult& r,
                  int64_t iterations) {
  RunRecord rec;
  rec.what = what;
  rec.subject = subject;
  rec.source = "estimated";
  rec.iterations = iterations;
  rec.energy_J = r.total(iterations);
  if (r.joules_per_iteration > 0) rec.spread = r.std / r.joules_per_iteration;
  log_run_record(rec);
}

}  // namespace thor
