#include "thor/protocol.hpp"

#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <mutex>
#include <numeric>
#include <random>

#include "thor/parallel.hpp"
#include "thor/train.hpp"

namespace thor {

void MeasureOptions::validate() const {
  const FieldRules f("measure");
  f.count("iterations", iterations, 1);
  f.count("warmup", warmup, 0);
  f.number("min_warmup_seconds", min_warmup_seconds, 0.0, 3600.0);
  f.number("min_window_seconds", min_window_seconds, 0.0, 3600.0);
  f.count("repeats", repeats, 1, 1000);
  f.count("threads", threads, 1, 1024);
  f.number("outlier_k", outlier_k, 0.5, 100.0);
  f.number("busy_cores", busy_cores, 0.01, 1024.0);
  f.count("busy_retries", busy_retries, 0, 100);
}

bool pin_allocator() {
  static const bool ok = [] {
    const bool mmap_ok = ::mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1;
    const bool trim_ok = ::mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024) == 1;
    return mmap_ok && trim_ok;
  }();
  return ok;
}

double machine_busy_seconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (!(in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) ||
      cpu != "cpu")
    return -1.0;
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return (user + nice + system + irq + softirq + steal) / ticks;
}

namespace {
double process_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
}  // namespace

double median(std::vector<double> v) {
  if (v.empty()) throw std::logic_error("median of an empty vector");
  const size_t n = v.size();
  std::nth_element(v.begin(), v.begin() + n / 2, v.end());
  const double hi = v[n / 2];
  if (n % 2) return hi;
  return 0.5 * (hi + *std::max_element(v.begin(), v.begin() + n / 2));
}

std::vector<size_t> mad_inliers(const std::vector<double>& v, double k) {
  std::vector<size_t> keep(v.size());
  std::iota(keep.begin(), keep.end(), 0);
  if (v.size() < 3) return keep;
  const double m = median(v);
  std::vector<double> dev;
  for (double x : v) dev.push_back(std::fabs(x - m));
  // 1.4826·MAD estimates sigma for normal data.
  const double mad = 1.4826 * median(dev);
  if (mad <= 0.0) return keep;
  keep.clear();
  for (size_t i = 0; i < v.size(); ++i)
    if (std::fabs(v[i] - m) <= k * mad) keep.push_back(i);
  return keep;
}

double Measurement::median_variance() const {
  const size_t n = repeat_joules.size() - static_cast<size_t>(std::max(0, rejected));
  if (n == 0) return 0.0;
  const double s = 1.2533 * std;
  return s * s / static_cast<double>(n);
}

void RunOptions::validate() const {
  const FieldRules f("run");
  f.count("iterations", iterations, 1);
  f.require(windows >= 1 && windows <= iterations, "windows", std::to_string(windows),
            "expected 1 <= windows <= iterations (" + std::to_string(iterations) + ")");
  f.count("threads", threads, 1, 1024);
}

namespace {

double wall_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Iterations one window needs to last min_window_seconds at `pace` s/iter.
int64_t window_iterations(const MeasureOptions& o, double pace) {
  if (!(pace > 0.0) || o.min_window_seconds <= 0.0) return o.iterations;
  const double need = std::ceil(o.min_window_seconds / pace);
  return std::max<int64_t>(o.iterations, static_cast<int64_t>(std::min(need, 1e7)));
}

}  // namespace

namespace {

// Median, std and cv of the repeats the k·MAD rule keeps.
void summarise(Measurement& m, double outlier_k) {
  const auto keep = mad_inliers(m.repeat_joules, outlier_k);
  m.rejected = static_cast<int>(m.repeat_joules.size() - keep.size());
  std::vector<double> j, s;
  for (size_t i : keep) {
    j.push_back(m.repeat_joules[i]);
    s.push_back(m.repeat_seconds[i]);
  }
  m.joules_per_iteration = median(j);
  m.seconds_per_iteration = median(s);
  const double mean = std::accumulate(j.begin(), j.end(), 0.0) / static_cast<double>(j.size());
  double var = 0.0;
  for (double x : j) var += (x - mean) * (x - mean);
  m.std = j.size() > 1 ? std::sqrt(var / static_cast<double>(j.size() - 1)) : 0.0;
  m.cv = mean > 0 ? m.std / mean : 0.0;
}

}  // namespace

Measurement measure_training(const Architecture& arch, EnergyMeter& meter, const MeasureOptions& o,
                             const TrainFeed& feed) {
  o.validate();
  arch.validate();
  if (o.pin_allocator) pin_allocator();
  const TorchThreadsGuard pin(o.threads);
  set_flush_denormal(o.flush_denormal);

  Measurement m;
  m.meter = meter.name();
  m.kind = meter.kind();
  m.threads = o.threads;
  m.flush_denormal = o.flush_denormal;
  m.feed = feed_name(feed, arch.input);
  double foreign_sum = 0.0;
  int foreign_n = 0;
  int64_t iterations = 0;  // fixed by the first repeat's pace, kept for all
  for (int r = 0; r < o.repeats; ++r) {
    TrainFeed f = feed;
    f.train.seed = feed.train.seed + static_cast<uint64_t>(r) + o.seed - 1;
    TrainingSession session(arch, o.seed + static_cast<uint64_t>(r), f, o.device);
    // Warm up: at least `warmup` iterations and `min_warmup_seconds`, past
    // the first iterations' transient (they cost ~5 % more than the rest of
    // a run here); the second half gives the pace that sizes the window.
    const double w0 = wall_now();
    const int64_t first = o.warmup / 2;
    session.run(first);
    const double t0 = wall_now();
    session.run(o.warmup - first);
    const double t1 = wall_now();
    const double pace = (t1 - t0) / static_cast<double>(std::max<int64_t>(1, o.warmup - first));
    if (o.warmup - first > 0 && t1 - w0 < o.min_warmup_seconds)
      session.run(static_cast<int64_t>(
          std::min(1e6, std::ceil((o.min_warmup_seconds - (t1 - w0)) / pace))));
    if (iterations == 0)
      iterations = o.warmup - first > 0 ? window_iterations(o, pace) : o.iterations;
    for (int attempt = 0;; ++attempt) {
      meter.set_workload(Workload{&arch, iterations, &session.stats()});
      const double busy0 = machine_busy_seconds(), own0 = process_cpu_seconds();
      meter.start();
      session.run(iterations);
      const EnergyReading reading = meter.stop();
      const double busy1 = machine_busy_seconds(), own1 = process_cpu_seconds();
      // Cores other processes kept busy during the window: on a shared
      // machine they slow this one down (and, in VMs, inflate its CPU time).
      const double foreign = (busy0 < 0 || reading.seconds <= 0)
                                 ? -1.0
                                 : std::max(0.0, (busy1 - busy0) - (own1 - own0)) / reading.seconds;
      if (foreign > o.busy_cores && attempt < o.busy_retries) {
        ++m.retried;
        continue;
      }
      if (foreign >= 0) {
        foreign_sum += foreign;
        ++foreign_n;
      }
      m.repeat_joules.push_back(reading.joules / static_cast<double>(iterations));
      m.repeat_seconds.push_back(reading.seconds / static_cast<double>(iterations));
      break;
    }
  }
  m.iterations = iterations;
  summarise(m, o.outlier_k);
  m.foreign_load = foreign_n ? foreign_sum / foreign_n : -1.0;
  return m;
}

std::vector<Measurement> measure_interleaved(const std::vector<Architecture>& archs,
                                             EnergyMeter& meter, const MeasureOptions& options,
                                             const TrainFeed& feed) {
  MeasureOptions one = options;
  one.repeats = 1;
  std::vector<Measurement> out(archs.size());
  for (int r = 0; r < options.repeats; ++r) {
    one.seed = options.seed + static_cast<uint64_t>(r);
    for (size_t a = 0; a < archs.size(); ++a) {
      const Measurement m = measure_training(archs[a], meter, one, feed);
      Measurement& acc = out[a];
      acc.repeat_joules.push_back(m.joules_per_iteration);
      acc.repeat_seconds.push_back(m.seconds_per_iteration);
      acc.kind = m.kind;
      acc.meter = m.meter;
      acc.threads = m.threads;
      acc.flush_denormal = m.flush_denormal;
      acc.iterations = m.iterations;
      acc.feed = m.feed;
    }
  }
  for (Measurement& m : out) summarise(m, options.outlier_k);
  return out;
}

RunMeasurement measure_real_run(const Architecture& arch, const Dataset& data,
                                const TrainOptions& train, EnergyMeter& meter,
                                const RunOptions& run, const Dataset* eval) {
  run.validate();
  train.validate();
  pin_allocator();
  const TorchThreadsGuard pin(run.threads);
  set_flush_denormal(run.flush_denormal);
  Model model(arch, run.seed, run.device);
  TrainOptions t = train;
  t.iterations = run.iterations;
  t.seed = run.seed;
  t.record_every = std::max<int64_t>(1, run.iterations / run.windows);

  RunMeasurement r;
  r.meter = meter.name();
  r.kind = meter.kind();
  r.feed = data.name;
  r.iterations = run.iterations;
  int64_t last = 0;
  auto open = [&] {
    meter.set_workload(
        Workload{&arch, std::min(t.record_every, run.iterations - last), &model.feed_stats()});
    meter.start();
  };
  open();
  model.train(data, t, eval, [&](const CurvePoint& p) {
    const EnergyReading w = meter.stop();
    r.joules += w.joules;
    r.seconds += w.seconds;
    r.window_joules_per_iteration.push_back(w.joules / static_cast<double>(p.iteration - last));
    r.final_accuracy = p.accuracy;
    last = p.iteration;
    if (last < run.iterations) open();
  });
  r.joules_per_iteration = r.joules / static_cast<double>(run.iterations);
  const auto& w = r.window_joules_per_iteration;
  const size_t fifth = std::max<size_t>(1, w.size() / 5);
  r.early = std::accumulate(w.begin(), w.begin() + fifth, 0.0) / fifth;
  r.late = std::accumulate(w.end() - fifth, w.end(), 0.0) / fifth;
  return r;
}

Architecture reference_architecture() {
  Architecture a;
  a.input = {1, 28, 28};
  a.batch_size = 32;
  a.layers = {Layer::conv(8, 5), Layer::simple(LayerType::relu), Layer::pool(LayerType::maxpool, 2),
              Layer::simple(LayerType::flatten), Layer::linear(10)};
  return a;
}

double PaceModel::seconds_per_iteration(const Architecture& arch) const {
  return overhead_s + seconds_per_flop * arch.train_flops();
}

double PaceModel::measure_seconds(const Architecture& arch, const MeasureOptions& o) const {
  const double pace = seconds_per_iteration(arch);
  const double warmup = std::max(static_cast<double>(o.warmup) * pace, o.min_warmup_seconds);
  const double window = static_cast<double>(window_iterations(o, pace)) * pace;
  const double takes = foreign_load > o.busy_cores ? 1.0 + o.busy_retries : 1.0;
  return o.repeats * (warmup + takes * window);
}

PaceModel measure_pace(const Architecture& typical, EnergyMeter& meter, const TrainFeed& feed,
                       int threads) {
  MeasureOptions o;
  o.repeats = 1;
  o.warmup = 4;
  o.iterations = 10;
  o.min_window_seconds = 0.3;
  o.min_warmup_seconds = 0.1;
  o.threads = threads;
  const Architecture small = reference_architecture();
  const Measurement a = measure_training(typical, meter, o, feed);
  const Measurement b = measure_training(small, meter, o, feed);
  PaceModel p;
  const double fa = typical.train_flops(), fb = small.train_flops();
  const double pa = a.seconds_per_iteration, pb = b.seconds_per_iteration;
  p.seconds_per_flop = fa > fb ? std::max(0.0, (pa - pb) / (fa - fb)) : pa / std::max(1.0, fa);
  p.overhead_s = std::max(0.0, pa - p.seconds_per_flop * fa);
  p.watts = pa > 0 ? a.joules_per_iteration / pa : 0.0;
  p.kind = a.kind;
  p.foreign_load = std::max(a.foreign_load, b.foreign_load);
  return p;
}

Measurement measure_reference(EnergyMeter& meter, const MeasureOptions& options) {
  // The first training a process runs pays for one-time set-up; keep it out
  // of the figure the host's drift is judged by.
  static std::once_flag warmed;
  std::call_once(warmed, [&] {
    MeasureOptions w = options;
    w.repeats = 1;
    (void)measure_training(reference_architecture(), meter, w);
  });
  return measure_training(reference_architecture(), meter, options);
}

// ---------------------------------------------------------------- sim meter

double sim_joules_per_iteration(const Architecture& arch) {
  // Additive over layers by construction; sub-linear in FLOPs with a
  // channel-dependent ripple (a stand-in for cache and kernel effects), so
  // that FLOPs alone cannot predict it but a per-kind GP can.
  const auto infos = arch.infer();
  double joules = 0.0;
  for (size_t i = 0; i < infos.size(); ++i) {
    const Layer& l = arch.layers[i];
    const double flops = infos[i].train_flops;
    double e = 2e-10 * std::pow(flops, 0.93);
    if (l.parametric()) e *= 1.0 + 0.12 * std::sin(static_cast<double>(l.out) / 6.0);
    if (l.parametric()) e += 4e-5;  // per-kernel launch / dispatch overhead
    joules += e;
  }
  return joules;
}

namespace {

class SimMeter final : public EnergyMeter {
 public:
  explicit SimMeter(const MeterOptions& o)
      : noise_(o.sim_noise), data_weight_(o.sim_data_weight), rng_(o.sim_seed) {}
  std::string name() const override { return "sim"; }
  EnergyKind kind() const override { return EnergyKind::simulated; }
  std::string describe() const override { return "sim (synthetic device for algorithm tests)"; }
  void set_workload(const Workload& w) override { workload_ = w; }
  void start() override {
    t0_ = std::chrono::steady_clock::now();
    if (workload_.feed) feed0_ = *workload_.feed;
  }
  EnergyReading stop() override {
    EnergyReading r;
    r.kind = EnergyKind::simulated;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    if (!workload_.architecture) return r;
    double factor = 1.0;
    if (noise_ > 0) factor += noise_ * std::normal_distribution<double>(0.0, 1.0)(rng_);
    if (data_weight_ != 0.0 && workload_.feed) {
      // The data fed in this window: what a data-dependent device would see.
      const double batches = static_cast<double>(workload_.feed->batches - feed0_.batches);
      if (batches > 0)
        factor *=
            1.0 + data_weight_ *
                      ((workload_.feed->input_mean_sum - feed0_.input_mean_sum) / batches - 0.5);
    }
    r.joules = sim_joules_per_iteration(*workload_.architecture) * workload_.iterations * factor;
    return r;
  }

 private:
  double noise_;
  double data_weight_;
  std::mt19937_64 rng_;
  FeedStats feed0_;
  Workload workload_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace

void register_sim_meter() {
  static std::once_flag once;  // opt-in (tests only), so not a built-in; idempotent
  std::call_once(once, [] {
    meter_registry().add("sim",
                         [](const MeterOptions& o) { return std::make_unique<SimMeter>(o); });
  });
}

}  // namespace thor
