// GaussianProcess: likelihood gradients, edge cases, determinism, JSON.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "thor/error.hpp"
#include "thor/gp/gp.hpp"

using namespace thor::gp;

namespace {

const char* const kKernels[] = {"matern12", "matern32", "matern52", "rbf"};

// Energy-like data on integer channel counts: (C_in, C_out) -> joules.
void energy_data(int n, Eigen::MatrixXd& X, Eigen::VectorXd& y, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> c(1, 256);
  std::normal_distribution<double> noise(0.0, 0.01);
  X.resize(n, 2);
  y.resize(n);
  for (int i = 0; i < n; ++i) {
    X(i, 0) = c(rng);
    X(i, 1) = c(rng);
    y[i] = (0.01 + 2e-7 * X(i, 0) * X(i, 1) + 2e-5 * X(i, 1) + 4e-3 * std::ceil(X(i, 1) / 32.0)) *
           (1.0 + noise(rng));
  }
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("gp: log marginal likelihood gradient matches finite differences") {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  energy_data(12, X, y);
  for (const char* kernel : kKernels) {
    for (const char* mean : {"zero", "constant", "linear"}) {
      for (bool learn_noise : {true, false}) {
        INFO("kernel " << std::string(kernel));
        INFO("mean " << std::string(mean));
        CAPTURE(learn_noise);
        Options o;
        o.kernel = kernel;
        o.mean = mean;
        o.learn_noise = learn_noise;
        o.initial_noise_variance = 0.05;
        GaussianProcess gp(o);
        Hyperparameters hp;
        hp.kernel_log_params = stationary_log_params(Eigen::Vector2d(0.4, 0.7), 1.3);
        hp.noise_variance = 0.05;
        gp.condition(X, y, hp);
        Eigen::VectorXd theta = gp.theta();
        if (std::string(mean) != "zero") theta.tail(gp.mean().num_params()).setConstant(0.3);
        Eigen::VectorXd grad;
        const double f0 = gp.log_marginal_likelihood(theta, &grad);
        CHECK(std::isfinite(f0));
        REQUIRE(grad.size() == theta.size());
        for (Eigen::Index i = 0; i < theta.size(); ++i) {
          const double h = 1e-5;
          Eigen::VectorXd tp = theta, tm = theta;
          tp[i] += h;
          tm[i] -= h;
          const double fd =
              (gp.log_marginal_likelihood(tp, nullptr) - gp.log_marginal_likelihood(tm, nullptr)) /
              (2 * h);
          CAPTURE(gp.theta_names()[static_cast<std::size_t>(i)]);
          CHECK(grad[i] == doctest::Approx(fd).epsilon(1e-6).scale(1.0));
        }
      }
    }
  }
}

TEST_CASE("gp: fit on energy-like data interpolates and reports") {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  energy_data(30, X, y);
  GaussianProcess gp;
  const FitResult r = gp.fit(X, y);
  REQUIRE(r.ok());
  CHECK(r.restarts_used + r.restarts_failed == 8);
  CHECK(r.best_restart >= 0);
  CHECK(starts_with(r.message, "gp: "));
  CHECK(r.one_line().find("gp fit:") == 0);
  CHECK(r.full_report().find("restarts used") != std::string::npos);
  CHECK(r.log_marginal_likelihood == doctest::Approx(gp.log_marginal_likelihood()));
  const double spread = y.maxCoeff() - y.minCoeff();
  for (int i = 0; i < 30; ++i) {
    const Prediction p = gp.predict(X.row(i).transpose());
    CHECK(std::abs(p.mean - y[i]) < 0.1 * spread);
    CHECK(p.variance >= 0.0);
  }
  // The noise and hyperparameters stay inside their bounds.
  CHECK(gp.noise_variance() >= gp.options().noise_variance_lower);
  CHECK(gp.noise_variance() <= gp.options().noise_variance_upper);
}

TEST_CASE("gp: the same seed gives the same fit, for any thread count") {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  energy_data(25, X, y, 5);
  Options o;
  o.threads = 1;
  GaussianProcess a(o);
  a.fit(X, y);
  o.threads = 2;
  GaussianProcess b(o);
  b.fit(X, y);
  GaussianProcess c(o);
  c.fit(X, y);
  CHECK(a.theta() == b.theta());
  CHECK(b.theta() == c.theta());
  CHECK(a.log_marginal_likelihood() == b.log_marginal_likelihood());
}

TEST_CASE("gp: prediction paths agree; mean gradient matches finite differences") {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  energy_data(20, X, y, 9);
  for (const char* mean : {"zero", "linear"}) {
    Options o;
    o.mean = mean;
    GaussianProcess gp(o);
    gp.fit(X, y);
    Eigen::MatrixXd T(7, 2);
    T << 1, 1, 10, 200, 128.5, 64.25, 256, 256, 300, 5, 33, 97, 200, 12;
    Eigen::VectorXd var, var_noise;
    const Eigen::VectorXd m = gp.predict_batch(T, &var);
    gp.predict_batch(T, &var_noise, true);
    for (int i = 0; i < T.rows(); ++i) {
      const Eigen::Vector2d x = T.row(i).transpose();
      const Prediction p = gp.predict(x);
      CHECK(p.mean == doctest::Approx(m[i]).epsilon(1e-12));
      CHECK(gp.predict_mean(x) == doctest::Approx(m[i]).epsilon(1e-12));
      CHECK(p.variance == doctest::Approx(var[i]).epsilon(1e-9).scale(1e-12));
      const double noise = gp.noise_variance() * gp.target_std() * gp.target_std();
      CHECK(var_noise[i] == doctest::Approx(var[i] + noise).epsilon(1e-9));
      const Eigen::VectorXd g = gp.mean_gradient(x);
      for (int d = 0; d < 2; ++d) {
        const double h = 1e-4;
        Eigen::Vector2d xp = x, xm = x;
        xp[d] += h;
        xm[d] -= h;
        const double fd = (gp.predict_mean(xp) - gp.predict_mean(xm)) / (2 * h);
        CHECK(g[d] == doctest::Approx(fd).epsilon(1e-5).scale(1e-8));
      }
    }
  }
}

TEST_CASE("gp: NaN and infinite inputs are rejected with clear messages") {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  energy_data(10, X, y);
  GaussianProcess gp;
  Eigen::MatrixXd Xbad = X;
  Xbad(3, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(gp.fit(Xbad, y), thor::InputError);
  CHECK(starts_with(error_of([&] { gp.fit(Xbad, y); }), "gp: fit: input row 3, column 1 is nan"));
  Eigen::VectorXd ybad = y;
  ybad[2] = std::numeric_limits<double>::infinity();
  CHECK(starts_with(error_of([&] { gp.fit(X, ybad); }), "gp: fit: target 2 is inf"));
  CHECK(starts_with(error_of([&] { gp.predict(Eigen::Vector2d(1, 1)); }), "gp: predict:"));
  gp.fit(X, y);
  CHECK_THROWS_AS(gp.predict(Eigen::Vector2d(std::nan(""), 1.0)), thor::InputError);
  CHECK_THROWS_AS(gp.predict_batch(Xbad), thor::InputError);
  CHECK_THROWS_AS(gp.predict(Eigen::Vector3d(1, 2, 3)), thor::InputError);
  CHECK_THROWS_AS(gp.fit(X.topRows(5), y), thor::InputError);
  CHECK_THROWS_AS(gp.fit(Eigen::MatrixXd(0, 2), Eigen::VectorXd(0)), thor::InputError);
}

TEST_CASE("gp: a single point") {
  GaussianProcess gp;
  Eigen::MatrixXd X(1, 2);
  X << 64, 32;
  const FitResult r = gp.fit(X, Eigen::VectorXd::Constant(1, 0.5));
  CHECK(r.status == FitStatus::kSkipped);
  CHECK(starts_with(r.message, "gp: fit: a single point"));
  const Prediction at = gp.predict(Eigen::Vector2d(64, 32));
  CHECK(at.mean == doctest::Approx(0.5));
  const Prediction far = gp.predict(Eigen::Vector2d(500, 500));
  CHECK(std::isfinite(far.mean));
  CHECK(far.variance > at.variance);
}

TEST_CASE("gp: constant targets") {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  energy_data(10, X, y);
  y.setConstant(0.1);
  GaussianProcess gp;
  const FitResult r = gp.fit(X, y);
  CHECK(r.status == FitStatus::kSkipped);
  CHECK(starts_with(r.message, "gp: fit: constant targets"));
  CHECK(gp.target_std() == 1.0);
  CHECK(gp.predict_mean(Eigen::Vector2d(17, 200)) == 0.1);
  CHECK(gp.predict_mean(Eigen::Vector2d(1000, -5)) == 0.1);
}

TEST_CASE("gp: duplicate inputs") {
  Eigen::MatrixXd X(8, 1);
  Eigen::VectorXd y(8);
  X << 16, 16, 16, 32, 32, 64, 64, 128;
  y << 1.0, 1.1, 0.9, 2.0, 2.1, 4.0, 3.9, 8.0;
  GaussianProcess gp;
  const FitResult r = gp.fit(X, y);
  CHECK(r.ok());
  CHECK(gp.noise_variance() > 1e-6);  // conflicting repeats are explained as noise
  CHECK(gp.predict_mean(Eigen::VectorXd::Constant(1, 16.0)) == doctest::Approx(1.0).epsilon(0.1));

  // Exact repeats with no noise at all: jitter makes the covariance usable.
  Options o;
  o.normalize_inputs = false;
  GaussianProcess exact(o);
  Hyperparameters hp;
  hp.kernel_log_params = stationary_log_params(Eigen::VectorXd::Constant(1, 50.0), 1.0);
  hp.noise_variance = 0.0;
  Eigen::MatrixXd Xd(3, 1);
  Xd << 16, 16, 32;
  exact.condition(Xd, Eigen::Vector3d(1.0, 1.0, 2.0), hp);
  CHECK(exact.jitter() > 0.0);
  CHECK(std::isfinite(exact.predict_mean(Eigen::VectorXd::Constant(1, 20.0))));
}

TEST_CASE("gp: Cholesky jitter escalation and the indefinite error") {
  Eigen::Matrix2d singular;
  singular << 1, 1, 1, 1;
  const CholeskyResult r = cholesky_with_jitter(singular);
  CHECK(r.jitter > 0.0);
  CHECK(r.jitter <= 1e-4);
  CHECK(r.attempts > 1);
  CHECK((r.lower * r.lower.transpose() - singular).cwiseAbs().maxCoeff() < 1e-4);

  Eigen::Matrix2d spd;
  spd << 2, 1, 1, 2;
  const CholeskyResult ok = cholesky_with_jitter(spd);
  CHECK(ok.jitter == 0.0);
  CHECK(ok.attempts == 1);

  Eigen::Matrix2d indefinite;
  indefinite << 1, 2, 2, 1;
  CHECK_THROWS_AS(cholesky_with_jitter(indefinite), NumericalError);
  const std::string msg = error_of([&] { cholesky_with_jitter(indefinite); });
  CHECK(starts_with(msg, "gp: covariance matrix (2x2) stays indefinite after jitter up to"));

  Eigen::Matrix2d nan_matrix = spd;
  nan_matrix(1, 0) = std::nan("");
  CHECK_THROWS_AS(cholesky_with_jitter(nan_matrix), NumericalError);
}

TEST_CASE("gp: JSON round trip gives identical predictions") {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  energy_data(30, X, y, 3);
  for (const char* kernel : kKernels) {
    for (const char* mean : {"zero", "linear"}) {
      INFO("kernel " << std::string(kernel));
      INFO("mean " << std::string(mean));
      Options o;
      o.kernel = kernel;
      o.mean = mean;
      o.restarts = 3;
      GaussianProcess gp(o);
      gp.fit(X, y);
      const std::string text = gp.to_json().dump();
      const GaussianProcess back = GaussianProcess::from_json(nlohmann::json::parse(text));
      CHECK(back.theta() == gp.theta());
      CHECK(back.log_marginal_likelihood() == gp.log_marginal_likelihood());
      CHECK(back.options().kernel == kernel);
      Eigen::MatrixXd T = Eigen::MatrixXd::Random(50, 2) * 150.0;
      T.array() += 128.0;
      Eigen::VectorXd v1, v2;
      const Eigen::VectorXd m1 = gp.predict_batch(T, &v1);
      const Eigen::VectorXd m2 = back.predict_batch(T, &v2);
      CHECK(m1 == m2);
      CHECK(v1 == v2);
      for (int i = 0; i < 50; ++i) {
        const Prediction a = gp.predict(T.row(i).transpose());
        const Prediction b = back.predict(T.row(i).transpose());
        CHECK(a.mean == b.mean);
        CHECK(a.variance == b.variance);
      }
      CHECK(nlohmann::json::parse(back.to_json().dump()) == nlohmann::json::parse(text));
    }
  }
}

TEST_CASE("gp: JSON errors name the key") {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  energy_data(8, X, y);
  GaussianProcess gp;
  gp.fit(X, y);
  const nlohmann::json good = gp.to_json();

  nlohmann::json j = good;
  j.erase("kernel");
  CHECK(error_of([&] { GaussianProcess::from_json(j); }) == "gp: json: missing key 'kernel'");
  j = good;
  j["kernel"].erase("log_params");
  CHECK(error_of([&] { GaussianProcess::from_json(j); }) ==
        "gp: json: missing key 'kernel.log_params'");
  j = good;
  j["noise_variance"] = "small";
  CHECK(starts_with(error_of([&] { GaussianProcess::from_json(j); }),
                    "gp: json: key 'noise_variance' must be a number"));
  j = good;
  j["kernel"]["name"] = "cosine";
  CHECK(starts_with(error_of([&] { GaussianProcess::from_json(j); }), "gp: unknown kernel"));
  j = good;
  j["targets"].erase(0);
  CHECK(starts_with(error_of([&] { GaussianProcess::from_json(j); }),
                    "gp: json: key 'targets' must have 8 entries"));
  j = good;
  j["format"] = "other";
  CHECK_THROWS_AS(GaussianProcess::from_json(j), thor::InputError);
  // Found by fuzz/fuzz_profile: a count out of int's range (undefined
  // behaviour when cast), and an input_dim allocated before the rows were
  // checked (100000000 x 8 doubles from a few bytes).
  j = good;
  j["options"]["restarts"] = 1e300;
  CHECK(error_of([&] { GaussianProcess::from_json(j); }) ==
        "gp: json: key 'options.restarts' must be a 32-bit integer");
  j = good;
  j["kernel"]["input_dim"] = 100000000;
  CHECK(error_of([&] { GaussianProcess::from_json(j); }) ==
        "gp: json: key 'inputs[0]' must be an array of 100000000 numbers");
}

TEST_CASE("gp: Options.validate names the field, the value and the rule") {
  Options o;
  CHECK_NOTHROW(o.validate());
  o.restarts = 0;
  CHECK(error_of([&] { o.validate(); }) == "gp: Options.restarts = 0: must be >= 1");
  o = Options();
  o.noise_variance_lower = -1;
  CHECK(starts_with(error_of([&] { o.validate(); }), "gp: Options.noise_variance_lower = -1"));
  o = Options();
  o.initial_length_scale = 1e6;
  CHECK(starts_with(error_of([&] { o.validate(); }), "gp: Options.initial_length_scale = 1000000"));
  o = Options();
  o.threads = -2;
  CHECK_THROWS_AS(GaussianProcess{o}, thor::InputError);
  o = Options();
  o.kernel = "nope";
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  energy_data(5, X, y);
  GaussianProcess gp(o);
  CHECK(starts_with(error_of([&] { gp.fit(X, y); }), "gp: unknown kernel 'nope'"));
}

TEST_CASE("gp: user kernel objects and copies") {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  energy_data(15, X, y);
  GaussianProcess gp(std::make_unique<Matern32Kernel>(2), std::make_unique<ConstantMean>(2));
  CHECK(gp.options().kernel == "matern32");
  gp.fit(X, y);
  const GaussianProcess copy = gp;
  const Eigen::Vector2d x(50, 60);
  CHECK(copy.predict(x).mean == gp.predict(x).mean);
  CHECK_THROWS_AS(GaussianProcess(std::make_unique<RbfKernel>(1), nullptr).fit(X, y),
                  thor::InputError);
}
