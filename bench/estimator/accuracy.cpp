// bench_estimator_accuracy: the paper's Fig. 7/8 protocol on this machine.
// For each model family: profile, draw random architectures with every
// layer's channels uniform in 1..original, measure each with the protocol,
// and compare the GP estimator and the FLOPs baseline side by side.
//   bench_estimator_accuracy [--count N] [--meter M] [--out DIR] [--families a,b]
// Profiling knobs for experiments: THOR_GP_MEAN (zero, constant, linear),
// THOR_MAX_POINTS, THOR_PROFILE_ITERATIONS. Profiles are saved in DIR.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <iomanip>
#include <iostream>
#include <random>

#include "thor/estimator.hpp"
#include "thor/profiler.hpp"

using namespace thor;

namespace {

struct Row {
  std::string family;
  double gp_mape, flops_mape, gp_within10, flops_within10, median_cv, profile_s;
  int n;
};

}  // namespace

int main(int argc, char** argv) {
  int count = 50;
  std::string meter_name = "cpu-model", out = "out/bench_estimator_accuracy", src = THOR_SOURCE_DIR;
  std::vector<std::string> families = {"lenet5", "cnn5", "mlp"};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--count") count = std::atoi(v.c_str());
    else if (k == "--meter") meter_name = v;
    else if (k == "--out") out = v;
    else if (k == "--families") {
      families.clear();
      std::stringstream ss(v);
      for (std::string f; std::getline(ss, f, ',');) families.push_back(f);
    }
  }
  std::filesystem::create_directories(out);
  MeterOptions mo;
  auto meter = make_meter(meter_name, mo);
  std::vector<Row> rows;
  std::ofstream data(out + "/scatter.dat");
  for (const auto& family : families) {
    const Architecture base = load_architecture(src + "/recipes/arch/" + family + ".yaml");
    ProfilerOptions po;
    if (const char* mean = std::getenv("THOR_GP_MEAN")) po.gp.mean = mean;
    if (const char* mp = std::getenv("THOR_MAX_POINTS")) po.max_points = std::atoi(mp);
    if (const char* it = std::getenv("THOR_PROFILE_ITERATIONS")) po.measure.iterations = std::atoi(it);
    po.progress = false;
    po.measure.iterations = 30;
    po.measure.repeats = 3;
    po.measure.warmup = 3;
    const auto t0 = std::chrono::steady_clock::now();
    const ProfileResult profiled = run_profiler({base}, *meter, mo, po);
    const double profile_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    profiled.profile.save(out + "/" + family + ".profile.json");
    const Estimator est(profiled.profile);

    std::mt19937_64 rng(42);
    const auto ch = base.channels();
    MeasureOptions m;
    m.iterations = 30;
    m.repeats = 3;
    m.warmup = 3;
    std::vector<double> gp_err, fl_err, cvs;
    data << "# " << family << "\n";
    for (int i = 0; i < count; ++i) {
      std::vector<int64_t> c;
      for (size_t k = 0; k + 1 < ch.size(); ++k) c.push_back(std::uniform_int_distribution<int64_t>(1, ch[k])(rng));
      const Architecture a = base.with_channels(c);
      const EstimateResult e = est.estimate(a);
      const Measurement meas = measure_training(a, *meter, m);
      gp_err.push_back((e.joules_per_iteration - meas.joules_per_iteration) / meas.joules_per_iteration);
      fl_err.push_back((e.flops_joules - meas.joules_per_iteration) / meas.joules_per_iteration);
      cvs.push_back(meas.cv);
      data << meas.joules_per_iteration << " " << e.joules_per_iteration << " " << e.flops_joules << "\n";
    }
    data << "\n\n";
    auto mape = [](const std::vector<double>& v) {
      double s = 0;
      for (double x : v) s += std::fabs(x);
      return s / v.size();
    };
    auto within = [](const std::vector<double>& v) {
      return double(std::count_if(v.begin(), v.end(), [](double x) { return std::fabs(x) <= 0.10; })) / v.size();
    };
    rows.push_back({family, mape(gp_err), mape(fl_err), within(gp_err), within(fl_err), median(cvs), profile_s, count});
    std::cerr << "bench: " << family << " done\n";
  }
  std::cout << "meter: " << meter->describe() << " (" << to_string(meter->kind()) << ")\n\n";
  std::cout << std::left << std::setw(8) << "family" << std::right << std::setw(5) << "n" << std::setw(11) << "GP MAPE"
            << std::setw(13) << "FLOPs MAPE" << std::setw(8) << "ratio" << std::setw(12) << "GP ±10%" << std::setw(13)
            << "FLOPs ±10%" << std::setw(12) << "median CV" << std::setw(13) << "profile s" << "\n";
  for (const auto& r : rows)
    std::cout << std::left << std::setw(8) << r.family << std::right << std::setw(5) << r.n << std::fixed
              << std::setprecision(1) << std::setw(10) << 100 * r.gp_mape << "%" << std::setw(12) << 100 * r.flops_mape
              << "%" << std::setw(7) << r.flops_mape / r.gp_mape << "x" << std::setw(11) << 100 * r.gp_within10 << "%"
              << std::setw(12) << 100 * r.flops_within10 << "%" << std::setw(11) << 100 * r.median_cv << "%"
              << std::setw(13) << r.profile_s << "\n";
  data.close();  // gnuplot reads it next
  std::ofstream gp(out + "/scatter.gp");
  gp << "set terminal pngcairo size 1200,400\nset output '" << out << "/scatter.png'\n"
     << "set multiplot layout 1," << families.size() << "\nset key left top\n"
     << "set xlabel 'measured J/iter'\nset ylabel 'estimated J/iter'\n";
  for (size_t i = 0; i < families.size(); ++i)
    gp << "set title '" << families[i] << "'\nplot '" << out << "/scatter.dat' index " << i
       << " using 1:2 title 'GP (thor)' pt 7 ps 0.6, '' index " << i
       << " using 1:3 title 'FLOPs' pt 2 ps 0.6, x title 'exact' lc rgb 'gray'\n";
  gp << "unset multiplot\n";
  gp.close();
  const int rc = std::system(("gnuplot " + out + "/scatter.gp 2>/dev/null").c_str());
  std::cout << "\nplot: " << (rc == 0 ? out + "/scatter.png" : "gnuplot unavailable, none written") << "\n";
  return 0;
}
