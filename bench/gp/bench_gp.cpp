// bench_gp: thor::gp against scikit-learn on the same data, in the same run.
//
//   bench_gp [--threads N] [--points N] [--no-sklearn] [--python PATH]
//
// 30 energy-like points in 2-D (C_in, C_out) -> J/iter; Matérn 5/2 with ARD
// plus learned noise, 8 restarts. Prints a table of figures and ratios; it
// never fails on time. --threads sets the task_arena concurrency of the fit
// (and BLAS/OpenMP threads of the Python side); default 1 (one core).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "thor/gp/gp.hpp"

#ifndef THOR_GP_SKLEARN_SCRIPT
#define THOR_GP_SKLEARN_SCRIPT "bench/gp/sklearn_timing.py"
#endif

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void energy_data(int n, Eigen::MatrixXd& X, Eigen::VectorXd& y) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> c(1, 256);
  std::normal_distribution<double> noise(0.0, 0.02);
  X.resize(n, 2);
  y.resize(n);
  for (int i = 0; i < n; ++i) {
    X(i, 0) = c(rng);
    X(i, 1) = c(rng);
    y[i] = (0.01 + 2e-7 * X(i, 0) * X(i, 1) + 2e-5 * X(i, 1) + 1e-5 * X(i, 0) +
            4e-3 * std::ceil(X(i, 1) / 32.0)) *
           (1.0 + noise(rng));
  }
}

Eigen::MatrixXd query_points(Eigen::Index m) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(1.0, 256.0);
  Eigen::MatrixXd Q(m, 2);
  for (Eigen::Index i = 0; i < m; ++i) {
    Q(i, 0) = u(rng);
    Q(i, 1) = u(rng);
  }
  return Q;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

nlohmann::json run_sklearn(const std::string& python, int threads, const Eigen::MatrixXd& X,
                           const Eigen::VectorXd& y, const Eigen::MatrixXd& Q) {
  char path[] = "/tmp/bench_gp_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return {{"error", "cannot create a temporary file"}};
  close(fd);
  nlohmann::json data;
  data["X"] = nlohmann::json::array();
  for (Eigen::Index i = 0; i < X.rows(); ++i) data["X"].push_back({X(i, 0), X(i, 1)});
  data["y"] = std::vector<double>(y.data(), y.data() + y.size());
  data["queries"] = nlohmann::json::array();
  for (Eigen::Index i = 0; i < std::min<Eigen::Index>(Q.rows(), 100000); ++i)
    data["queries"].push_back({Q(i, 0), Q(i, 1)});
  data["restarts"] = 8;
  data["fit_repeats"] = 3;
  data["single_calls"] = 2000;
  {
    std::ofstream out(path);
    out << data.dump();
  }
  const std::string t = std::to_string(threads <= 0 ? 0 : threads);
  std::string env;
  if (threads > 0)
    env = "OMP_NUM_THREADS=" + t + " OPENBLAS_NUM_THREADS=" + t + " MKL_NUM_THREADS=" + t + " ";
  const std::string cmd =
      env + python + " " + std::string(THOR_GP_SKLEARN_SCRIPT) + " " + path + " 2>/dev/null";
  std::string output;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    while (fgets(buf, sizeof buf, p)) output += buf;
    pclose(p);
  }
  std::remove(path);
  try {
    return nlohmann::json::parse(output);
  } catch (const std::exception&) {
    return {{"error", "no result from " + python + " (is scikit-learn installed?)"}};
  }
}

void row(const char* metric, double thor, double sk, bool higher_is_better, const char* unit) {
  char sk_text[32] = "-", ratio_text[32] = "-";
  if (!std::isnan(sk)) {
    std::snprintf(sk_text, sizeof sk_text, "%.4g", sk);
    std::snprintf(ratio_text, sizeof ratio_text, "%.1fx", higher_is_better ? thor / sk : sk / thor);
  }
  std::printf("%-34s %12.4g %14s %9s  %s\n", metric, thor, sk_text, ratio_text, unit);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  int points = 30;
  bool sklearn = true;
  std::string python = "/usr/bin/python3";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (a == "--points" && i + 1 < argc) {
      points = std::atoi(argv[++i]);
    } else if (a == "--no-sklearn") {
      sklearn = false;
    } else if (a == "--python" && i + 1 < argc) {
      python = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: bench_gp [--threads N] [--points N] [--no-sklearn] [--python PATH]\n");
      return 2;
    }
  }

  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  energy_data(points, X, y);
  const Eigen::MatrixXd Q = query_points(1 << 20);

  thor::gp::Options o;
  o.threads = threads;
  o.restarts = 8;
  thor::gp::GaussianProcess gp(o);

  // Fit with 8 restarts.
  std::vector<double> fit_ms;
  thor::gp::FitResult fit;
  for (int r = 0; r < 15; ++r) {
    const auto t0 = Clock::now();
    fit = gp.fit(X, y);
    fit_ms.push_back(seconds_since(t0) * 1e3);
  }

  // Single-point prediction (mean and variance), cycling through 4096 points.
  const int kCalls = 2000000;
  std::vector<Eigen::Vector2d> singles(4096);
  for (std::size_t i = 0; i < singles.size(); ++i)
    singles[i] = Q.row(static_cast<Eigen::Index>(i)).transpose();
  double sink = 0.0;
  auto t0 = Clock::now();
  for (int i = 0; i < kCalls; ++i) {
    const thor::gp::Prediction p = gp.predict(singles[static_cast<std::size_t>(i) & 4095]);
    sink += p.mean + p.variance;
  }
  const double single_ns = seconds_since(t0) / kCalls * 1e9;
  t0 = Clock::now();
  for (int i = 0; i < kCalls; ++i)
    sink += gp.predict_mean(singles[static_cast<std::size_t>(i) & 4095]);
  const double single_mean_ns = seconds_since(t0) / kCalls * 1e9;

  // Batched means, and means + variances.
  std::vector<double> batch_rate, batch_var_rate;
  for (int r = 0; r < 5; ++r) {
    t0 = Clock::now();
    const Eigen::VectorXd m = gp.predict_batch(Q);
    batch_rate.push_back(static_cast<double>(Q.rows()) / seconds_since(t0));
    sink += m[0];
    Eigen::VectorXd v;
    t0 = Clock::now();
    const Eigen::VectorXd m2 = gp.predict_batch(Q, &v);
    batch_var_rate.push_back(static_cast<double>(Q.rows()) / seconds_since(t0));
    sink += m2[1] + v[2];
  }

  nlohmann::json sk = {{"error", "skipped (--no-sklearn)"}};
  if (sklearn) sk = run_sklearn(python, threads, X, y, Q);
  const bool have = !sk.contains("error");
  const double nan = std::nan("");
  auto get = [&](const char* key) { return have ? sk.at(key).get<double>() : nan; };

  std::printf("bench_gp: %d points in 2-D, Matern 5/2 ARD + noise, 8 restarts, threads %d\n",
              points, threads);
  std::printf("thor fit: %s\n", fit.one_line().c_str());
  if (have)
    std::printf("scikit-learn %s, log marginal likelihood %.6f (thor %.6f)\n",
                sk.at("sklearn_version").get<std::string>().c_str(), get("lml"),
                fit.log_marginal_likelihood);
  else
    std::printf("scikit-learn: %s\n", sk.at("error").get<std::string>().c_str());
  std::printf("\n%-34s %12s %14s %9s  %s\n", "metric", "thor", "scikit-learn", "thor gain", "unit");
  row("fit, 8 restarts", median(fit_ms), get("fit_ms"), false, "ms");
  row("single-point predict (mean+var)", single_ns, get("single_ns"), false, "ns/call");
  row("single-point predict_mean", single_mean_ns, nan, false, "ns/call");
  row("batch predict, means", median(batch_rate), get("batch_points_per_s"), true, "points/s");
  row("batch predict, means + variances", median(batch_var_rate), get("batch_std_points_per_s"),
      true, "points/s");
  std::printf(
      "\ngoals: single-point < 1000 ns, batch means > 1e7 points/s, fit < 10 ms and >= 10x "
      "scikit-learn (figures only; never asserted)\n");
  return sink == 12345.0 ? 1 : 0;
}
