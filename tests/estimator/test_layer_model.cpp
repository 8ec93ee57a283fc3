// The layer model: work terms fitted without negative slopes, the step
// width found from data, per-point noise carried, and honest intervals.
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "thor/error.hpp"
#include "thor/layer_model.hpp"

using namespace thor;

TEST_CASE("nnls keeps constrained coefficients non-negative and free ones free") {
  // b = 2 - 1·x1 + 3·x2: the best fit with x1 >= 0 puts x1 at 0.
  Eigen::MatrixXd A(6, 3);
  Eigen::VectorXd b(6);
  for (int i = 0; i < 6; ++i) {
    A(i, 0) = 1.0;
    A(i, 1) = i;
    A(i, 2) = i * i;
    b[i] = -5.0 - 1.0 * i + 3.0 * i * i;
  }
  const Eigen::VectorXd x = nnls(A, b, {true, false, false});
  CHECK(x[0] < 0.0);  // the intercept may be negative
  CHECK(x[1] == doctest::Approx(0.0));
  CHECK(x[2] > 0.0);
  const Eigen::VectorXd exact = nnls(A, A * Eigen::Vector3d(1.0, 2.0, 0.5), {true, false, false});
  CHECK(exact[1] == doctest::Approx(2.0).epsilon(1e-8));
  CHECK(exact[2] == doctest::Approx(0.5).epsilon(1e-8));
}

namespace {
// A hidden layer whose kernels work on channels in blocks of 8.
double stepped(double a, double b) {
  const double ua = 8 * std::ceil(a / 8), ub = 8 * std::ceil(b / 8);
  return 2e-3 + 1e-5 * b + 4e-6 * ua * ub;
}
}  // namespace

TEST_CASE("the work model finds the device's channel step and stays monotone") {
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> u(1, 48);
  const int n = 24;
  Eigen::MatrixXd X(n, 2);
  Eigen::VectorXd y(n), v(n);
  std::normal_distribution<double> noise(0.0, 1.0);
  for (int i = 0; i < n; ++i) {
    X(i, 0) = u(rng);
    X(i, 1) = u(rng);
    const double f = stepped(X(i, 0), X(i, 1));
    v[i] = (0.005 * f) * (0.005 * f);
    y[i] = f + std::sqrt(v[i]) * noise(rng);
  }
  LayerModel m;
  m.fit(X, y, v);
  CHECK(m.step() == 8);
  double worst = 0.0;
  for (int a = 1; a <= 48; a += 3)
    for (int b = 1; b <= 48; b += 3) {
      const double x[2] = {double(a), double(b)};
      worst = std::max(worst, std::fabs(m.predict_mean(x) / stepped(a, b) - 1.0));
    }
  CHECK(worst < 0.03);
  CHECK(m.loo_relative_error() < 0.03);
  // No negative work: every slope coefficient is >= 0.
  for (Eigen::Index j = 1; j < m.coefficients().size(); ++j) CHECK(m.coefficients()[j] >= 0.0);
}

TEST_CASE("per-point noise: a heteroscedastic surface is recovered and its intervals cover") {
  // 1-D kind, f(c) = 1e-3 + 2e-5 c; every other point is 6x noisier.
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0.0, 1.0);
  auto f = [](double c) { return 1e-3 + 2e-5 * c; };
  int covered = 0, total = 0;
  double err = 0.0;
  for (int trial = 0; trial < 20; ++trial) {
    const int n = 12;
    Eigen::MatrixXd X(n, 1);
    Eigen::VectorXd y(n), v(n);
    for (int i = 0; i < n; ++i) {
      X(i, 0) = 1 + i * 11;
      const double s = (i % 2 ? 0.06 : 0.01) * f(X(i, 0));
      v[i] = s * s;
      y[i] = f(X(i, 0)) + s * noise(rng);
    }
    LayerModel m;
    m.fit(X, y, v);
    for (int c = 3; c <= 120; c += 13) {
      const double x[1] = {double(c)};
      const auto p = m.predict(x);
      covered += std::fabs(p.mean - f(c)) <= 1.96 * std::sqrt(p.variance);
      err += std::fabs(p.mean / f(c) - 1.0);
      ++total;
    }
  }
  CHECK(err / total < 0.02);
  CHECK(double(covered) / total >= 0.85);
  // The noisy points count less: refitting with equal variances is worse on average.
}

TEST_CASE("layer models round-trip through JSON and reject bad input") {
  Eigen::MatrixXd X(5, 1);
  Eigen::VectorXd y(5), v = Eigen::VectorXd::Constant(5, 1e-10);
  for (int i = 0; i < 5; ++i) {
    X(i, 0) = 1 + 4 * i;
    y[i] = 0.01 + 0.001 * X(i, 0) + (i == 2 ? 3e-4 : 0.0);
  }
  LayerModel m;
  m.fit(X, y, v);
  const LayerModel back = LayerModel::from_json(m.to_json(), "test");
  for (double c = 1; c < 20; c += 0.5) {
    const double x[1] = {c};
    CHECK(back.predict_mean(x) == m.predict_mean(x));
    CHECK(back.predict(x).variance == doctest::Approx(m.predict(x).variance));
  }
  nlohmann::json bad = m.to_json();
  bad["coefficients"] = {1.0};
  CHECK_THROWS_WITH_AS(LayerModel::from_json(bad, "p.json"), doctest::Contains("p.json"),
                       InputError);
  CHECK_THROWS_AS(m.fit(X, y, Eigen::VectorXd::Constant(4, 1.0)), InputError);
  LayerModelOptions o;
  o.step_widths = {0};
  CHECK_THROWS_WITH_AS(o.validate(), doctest::Contains("step_widths"), InputError);
}

TEST_CASE("a GP with per-point noise trusts quiet points and discounts a noisy one") {
  // A line with one point pushed far off; that point is declared noisy.
  const int n = 9;
  Eigen::MatrixXd X(n, 1);
  Eigen::VectorXd y(n), quiet = Eigen::VectorXd::Constant(n, 1e-6), flagged = quiet;
  for (int i = 0; i < n; ++i) {
    X(i, 0) = i;
    y[i] = 1.0 + 0.5 * i;
  }
  y[4] += 2.0;
  flagged[4] = 4.0;  // std 2: the outlier is within its own noise
  gp::Options o;
  o.learn_noise = false;
  o.initial_noise_variance = 1e-8;
  o.noise_variance_lower = 1e-10;
  gp::GaussianProcess plain(o), hetero(o);
  plain.fit(X, y, quiet);
  hetero.fit(X, y, flagged);
  const Eigen::VectorXd at4 = Eigen::VectorXd::Constant(1, 4.0);
  // Declared noisy, the point barely pulls the mean; declared quiet, it is interpolated.
  CHECK(std::fabs(hetero.predict(at4).mean - 3.0) < std::fabs(plain.predict(at4).mean - 3.0));
  CHECK(plain.predict(at4).mean == doctest::Approx(5.0).epsilon(0.01));
  const gp::GaussianProcess back = gp::GaussianProcess::from_json(hetero.to_json());
  REQUIRE(back.point_variance().size() == n);
  CHECK(back.predict(at4).mean == doctest::Approx(hetero.predict(at4).mean));
  CHECK_THROWS_AS(plain.fit(X, y, Eigen::VectorXd::Constant(n, -1.0)), InputError);
}
