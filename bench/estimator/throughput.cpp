// bench_estimator_throughput: how many 5-layer architectures (LeNet-5
// channel variants) the Estimator scores per second, on 1 and 2 threads,
// through the compiled plan (what pruning and search call) and through the
// full per-architecture path with its per-block breakdown.
#include <chrono>
#include <iomanip>
#include <iostream>
#include <random>

#include "thor/estimator.hpp"
#include "thor/profiler.hpp"

using namespace thor;
using clk = std::chrono::steady_clock;

int main() {
  register_sim_meter();
  MeterOptions mo;
  auto meter = make_meter("sim", mo);
  const Architecture base =
      load_architecture(std::string(THOR_SOURCE_DIR) + "/recipes/arch/lenet5.yaml");
  ProfilerOptions po;
  po.progress = false;
  po.measure.iterations = 1;
  po.measure.warmup = 0;
  po.measure.repeats = 1;
  const DeviceProfile profile = run_profiler({base}, *meter, mo, po).profile;

  const size_t n = 2'000'000;
  std::mt19937_64 rng(1);
  const auto ch = base.channels();
  std::vector<int64_t> channels;
  channels.reserve(n * 4);
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k + 1 < ch.size(); ++k)
      channels.push_back(std::uniform_int_distribution<int64_t>(1, ch[k])(rng));
  std::vector<Architecture> archs;
  for (size_t i = 0; i < 20000; ++i)
    archs.push_back(base.with_channels(
        std::vector<int64_t>(channels.begin() + 4 * i, channels.begin() + 4 * i + 4)));

  std::cout << "architectures/s (LeNet-5 channel variants, 5 blocks; median of 5 runs)\n"
            << std::left << std::setw(10) << "threads" << std::right << std::setw(18)
            << "plan (mean)" << std::setw(18) << "full estimate()"
            << "\n";
  double plan_rate[3] = {0, 0, 0}, full_rate[3] = {0, 0, 0};
  for (int threads : {1, 2}) {
    EstimatorOptions eo;
    eo.threads = threads;
    const Estimator est(profile, eo);
    const EstimatePlan plan = est.plan(base);
    std::vector<double> a, b;
    double sink = 0;
    for (int rep = 0; rep < 5; ++rep) {
      auto t0 = clk::now();
      const auto means = est.mean_batch(plan, channels);
      a.push_back(n / std::chrono::duration<double>(clk::now() - t0).count());
      sink += means[rep];
      t0 = clk::now();
      const auto full = est.estimate_batch(archs);
      b.push_back(archs.size() / std::chrono::duration<double>(clk::now() - t0).count());
      sink += full[rep].joules_per_iteration;
    }
    plan_rate[threads] = median(a);
    full_rate[threads] = median(b);
    std::cout << std::left << std::setw(10) << threads << std::right << std::fixed
              << std::setprecision(0) << std::setw(18) << plan_rate[threads] << std::setw(18)
              << full_rate[threads] << "\n";
    if (sink == 42.0) std::cout << "";  // keeps the results alive
  }
  std::cout << std::setprecision(2) << "speedup 2 vs 1 thread: plan " << plan_rate[2] / plan_rate[1]
            << "x, full " << full_rate[2] / full_rate[1]
            << "x; goal: plan >= 1,000,000/s on 2 threads\n";
  return 0;
}
