// bench_real_run: what a real training run costs, against what thor said.
//
// For six architectures trained on Fashion-MNIST with SGD (lr 0.05, momentum
// 0.9, batch 32): one device profile made on the same data and optimizer,
// then for each architecture
//   (a) the protocol's figure (measure_training on the data stream) × iterations,
//   (b) the estimator's prediction,
//   (c) a metered real run (Model::train, windows at curve points), done twice
//       with different seeds — the spread of the two is the noise floor.
// Errors are against the mean of the two real runs.
//   bench_real_run [--iterations N] [--max-seconds S] [--meter M] [--quick]
// A run lasts min(N iterations, S seconds at the protocol's pace) but at
// least 200 iterations; the defaults (5000, 60) meet ">= 5000 iterations or
// >= 60 s".
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <random>

#include "thor/estimator.hpp"
#include "thor/profiler.hpp"
#include "thor/recipe.hpp"

using namespace thor;

namespace {

struct Row {
  std::string name;
  int64_t iterations = 0;
  double run1 = 0, run2 = 0, protocol = 0, estimate = 0, estimate_std = 0, early = 0, late = 0;
  double ref_protocol = 0, ref_run = 0;  // reference workload before the protocol / around the runs
};

}  // namespace

int main(int argc, char** argv) {
  int64_t max_iterations = 5000;
  double max_seconds = 60.0;
  std::string meter_name = "cpu-model", trace;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 < argc && k == "--trace") {
      trace = argv[++i];
    } else if (k == "--quick") {
      max_iterations = 400;
      max_seconds = 3.0;
    } else if (i + 1 < argc && k == "--iterations") {
      max_iterations = std::atoll(argv[++i]);
    } else if (i + 1 < argc && k == "--max-seconds") {
      max_seconds = std::atof(argv[++i]);
    } else if (i + 1 < argc && k == "--meter") {
      meter_name = argv[++i];
    } else {
      std::cerr << "usage: bench_real_run [--iterations N] [--max-seconds S] [--meter M] [--quick] "
                   "[--trace A.yaml]\n";
      return 2;
    }
  }
  try {
    const Dataset train = load_training_data("fashion-mnist");
    TrainOptions opt;  // sgd, lr 0.05, momentum 0.9: the recipes' optimizer
    const Architecture lenet =
        load_architecture(std::string(THOR_SOURCE_DIR) + "/recipes/arch/lenet5.yaml");
    const Architecture cnn =
        load_architecture(std::string(THOR_SOURCE_DIR) + "/recipes/arch/cnn5.yaml");
    const Architecture mlp =
        load_architecture(std::string(THOR_SOURCE_DIR) + "/recipes/arch/mlp.yaml");
    std::vector<std::pair<std::string, Architecture>> nets = {
        {"lenet5", lenet}, {"lenet5-wide", lenet.with_channels({12, 24, 100, 60})},
        {"cnn5", cnn},     {"cnn5-narrow", cnn.with_channels({8, 20, 40, 48})},
        {"mlp", mlp},      {"mlp-narrow", mlp.with_channels({100, 50})},
    };
    MeterOptions mo;
    auto meter = make_meter(meter_name, mo);
    std::filesystem::create_directories("out");
    if (!trace.empty()) {
      // How energy per iteration moves through a run, and what the protocol
      // sees after different warm-ups.
      const Architecture a = load_architecture(trace);
      RunOptions ro;
      ro.iterations = max_iterations;
      ro.windows = 25;
      const RunMeasurement r = measure_real_run(a, train, opt, *meter, ro);
      std::cout << "real run " << r.joules_per_iteration << " J/iter; windows of "
                << ro.iterations / ro.windows << " iterations:";
      for (double w : r.window_joules_per_iteration)
        std::cout << " " << std::setprecision(4) << w / r.joules_per_iteration;
      std::cout << "\n";
      for (int64_t warm : {10, 100, 300, 1000}) {
        MeasureOptions m;
        m.warmup = warm;
        const Measurement pm = measure_training(a, *meter, m, TrainFeed{&train, opt});
        std::cout << "protocol warmup " << warm << ": "
                  << pm.joules_per_iteration / r.joules_per_iteration << " of the real run (cv "
                  << pm.cv << ")\n";
      }
      return 0;
    }

    ProfilerOptions po;
    po.feed = TrainFeed{&train, opt};
    po.progress = false;
    const auto t0 = std::chrono::steady_clock::now();
    const DeviceProfile profile =
        run_profiler({lenet.with_channels({12, 24, 120, 84}), cnn, mlp}, *meter, mo, po).profile;
    const double profile_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    profile.save("out/bench_real_run.profile.json");
    const Estimator est(profile);
    std::cerr << "bench: profiled in " << profile_s << " s\n";

    std::vector<Row> rows;
    for (const auto& [name, arch] : nets) {
      Row r;
      r.name = name;
      r.ref_protocol = measure_reference(*meter, MeasureOptions{}).joules_per_iteration;
      const Measurement m =
          measure_training(arch, *meter, MeasureOptions{}, TrainFeed{&train, opt});
      r.protocol = m.joules_per_iteration;
      const EstimateResult e = est.estimate(arch);
      r.estimate = e.joules_per_iteration;
      r.estimate_std = e.std;
      r.iterations = std::max<int64_t>(
          200, std::min<int64_t>(max_iterations, static_cast<int64_t>(std::ceil(
                                                     max_seconds / m.seconds_per_iteration))));
      RunOptions ro;
      ro.iterations = r.iterations;
      ro.seed = 1;
      const RunMeasurement a = measure_real_run(arch, train, opt, *meter, ro);
      ro.seed = 2;
      const RunMeasurement b = measure_real_run(arch, train, opt, *meter, ro);
      r.ref_run = measure_reference(*meter, MeasureOptions{}).joules_per_iteration;
      r.run1 = a.joules_per_iteration;
      r.run2 = b.joules_per_iteration;
      r.early = 0.5 * (a.early + b.early);
      r.late = 0.5 * (a.late + b.late);
      rows.push_back(r);
      std::cerr << "bench: " << name << " done\n";
    }

    std::cout << "meter: " << meter->describe() << " (" << to_string(meter->kind()) << "); profile "
              << std::fixed << std::setprecision(1) << profile_s << " s on "
              << profile.settings.data << "\n"
              << "errors against the mean of two metered real runs; noise = |run1 - run2| / (run1 "
                 "+ run2)\n\n";
    std::cout << std::left << std::setw(13) << "architecture" << std::right << std::setw(7)
              << "iters" << std::setw(11) << "real J/it" << std::setw(8) << "noise" << std::setw(11)
              << "protocol" << std::setw(9) << "err" << std::setw(11) << "estimate" << std::setw(9)
              << "err" << std::setw(8) << "±2σ" << std::setw(11) << "late/early" << std::setw(10)
              << "goal"
              << "\n";
    int met = 0;
    for (const auto& r : rows) {
      const double real = 0.5 * (r.run1 + r.run2);
      const double noise = std::fabs(r.run1 - r.run2) / (r.run1 + r.run2);
      const double pe = r.protocol / real - 1.0, ee = r.estimate / real - 1.0;
      const bool ok = std::fabs(ee) <= std::max(0.03, 1.5 * noise) && std::fabs(pe) <= 0.02;
      met += ok;
      std::cout << std::left << std::setw(13) << r.name << std::right << std::setw(7)
                << r.iterations << std::setprecision(5) << std::defaultfloat << std::setw(11)
                << real << std::fixed << std::setprecision(2) << std::setw(7) << 100 * noise << "%"
                << std::defaultfloat << std::setprecision(5) << std::setw(11) << r.protocol
                << std::fixed << std::setprecision(2) << std::showpos << std::setw(8) << 100 * pe
                << "%" << std::noshowpos << std::defaultfloat << std::setprecision(5)
                << std::setw(11) << r.estimate << std::fixed << std::setprecision(2) << std::showpos
                << std::setw(8) << 100 * ee << "%" << std::noshowpos << std::setw(7)
                << 200 * r.estimate_std / r.estimate << "%" << std::setw(10) << std::setprecision(3)
                << r.late / r.early << std::setw(10) << (ok ? "met" : "missed") << "\n";
    }
    std::cout
        << "\ngoals: estimate within max(3%, 1.5 x noise) of the real run, protocol within 2%: "
        << met << "/" << rows.size() << " architectures\n";
    // How much of the protocol's error is the host's speed moving between
    // the two measurements: the reference workload measured before the
    // protocol and after the runs.
    std::cout
        << "\nprotocol error with the host's drift divided out (reference workload before each):\n";
    for (const auto& r : rows) {
      const double real = 0.5 * (r.run1 + r.run2);
      std::cout << "  " << std::left << std::setw(13) << r.name << std::right << std::fixed
                << std::setprecision(2) << std::showpos
                << 100 * ((r.protocol / r.ref_protocol) / (real / r.ref_run) - 1.0) << "%"
                << "  (host drift " << 100 * (r.ref_run / r.ref_protocol - 1.0) << "%)"
                << std::noshowpos << "\n";
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_real_run: error: " << e.what() << "\n";
    return 2;
  }
}
