// Guided profiling: max-variance candidate selection and stopping rules.
#include <doctest/doctest.h>

#include <cmath>

#include "thor/error.hpp"
#include "thor/gp/acquisition.hpp"

using namespace thor::gp;

namespace {

GaussianProcess fitted_1d(std::initializer_list<double> xs) {
  Eigen::MatrixXd X(static_cast<Eigen::Index>(xs.size()), 1);
  Eigen::VectorXd y(X.rows());
  Eigen::Index i = 0;
  for (double x : xs) {
    X(i, 0) = x;
    y[i] = 0.01 + 1e-3 * x;
    ++i;
  }
  Options o;
  o.normalize_inputs = false;
  GaussianProcess gp(o);
  Hyperparameters hp;
  hp.kernel_log_params = stationary_log_params(Eigen::VectorXd::Constant(1, 8.0), 1.0);
  hp.noise_variance = 1e-8;
  gp.condition(X, y, hp);
  return gp;
}

}  // namespace

TEST_CASE("acquisition: integer grids") {
  IntegerGrid g{{1, 8}, {3, 16}, {1, 4}};
  CHECK(g.size() == 9);
  const Eigen::MatrixXd P = g.points();
  REQUIRE(P.rows() == 9);
  CHECK(P(0, 0) == 1);
  CHECK(P(0, 1) == 8);
  CHECK(P(1, 1) == 12);
  CHECK(P(2, 1) == 16);
  CHECK(P(3, 0) == 2);
  CHECK(P(8, 0) == 3);
  CHECK(P(8, 1) == 16);
  IntegerGrid bad{{4}, {2}, {}};
  CHECK_THROWS_AS(bad.validate(), thor::InputError);
  IntegerGrid bad_step{{1}, {5}, {0}};
  CHECK_THROWS_AS(bad_step.size(), thor::InputError);
  CHECK(IntegerGrid{{1}, {10}, {}}.size() == 10);
}

TEST_CASE("acquisition: picks the candidate with the largest variance, skipping measured points") {
  const GaussianProcess gp = fitted_1d({1, 2, 3, 30, 31, 32, 64});
  IntegerGrid grid{{1}, {64}, {}};
  const auto best = max_variance_candidate(gp, grid);
  REQUIRE(best.has_value());
  // Brute force over the same grid.
  double max_var = -1;
  double arg = -1;
  for (int c = 1; c <= 64; ++c) {
    if (c == 1 || c == 2 || c == 3 || c == 30 || c == 31 || c == 32 || c == 64) continue;
    const double v = gp.predict(Eigen::VectorXd::Constant(1, c)).variance;
    if (v > max_var) {
      max_var = v;
      arg = c;
    }
  }
  CHECK(best->x[0] == arg);
  CHECK(best->variance == doctest::Approx(max_var).epsilon(1e-9));
  CHECK(best->x[0] > 3);
  CHECK(best->x[0] < 64);
  CHECK(best->std() == doctest::Approx(std::sqrt(max_var)));

  // Excluding that point moves the choice elsewhere.
  const auto second = max_variance_candidate(gp, grid, best->x.transpose());
  REQUIRE(second.has_value());
  CHECK(second->x[0] != best->x[0]);

  // Measured points are never proposed even if they are the only candidates.
  Eigen::MatrixXd only_measured(2, 1);
  only_measured << 1, 64;
  CHECK_FALSE(max_variance_candidate(gp, only_measured).has_value());
  CHECK_THROWS_AS(max_variance_candidate(gp, Eigen::MatrixXd::Zero(3, 2)), thor::InputError);
}

TEST_CASE("acquisition: stopping rules") {
  CHECK_THROWS_AS(MaxPointsRule(0), thor::InputError);
  CHECK_THROWS_AS(RelativeStdRule(0.0), thor::InputError);
  std::vector<std::unique_ptr<StopRule>> rules;
  rules.push_back(std::make_unique<MaxPointsRule>(10));
  rules.push_back(std::make_unique<RelativeStdRule>());  // 5 %

  StopContext c;
  c.num_points = 4;
  c.mean_target = 2.0;
  c.max_std = 0.5;
  CHECK_FALSE(should_stop(rules, c).stop);
  c.max_std = 0.09;  // < 0.05 * 2.0
  StopDecision d = should_stop(rules, c);
  CHECK(d.stop);
  CHECK(d.reason.rfind("relative_std:", 0) == 0);
  c.max_std = 0.5;
  c.num_points = 10;
  d = should_stop(rules, c);
  CHECK(d.stop);
  CHECK(d.reason.rfind("max_points:", 0) == 0);
  c.num_points = 3;
  c.candidates_left = false;
  CHECK(should_stop(rules, c).stop);

  // From a GP: dense measurements make the std small relative to the mean.
  const GaussianProcess gp = fitted_1d({1, 2, 3, 4, 5, 6, 7, 8});
  IntegerGrid grid{{1}, {9}, {}};
  const auto best = max_variance_candidate(gp, grid);
  REQUIRE(best.has_value());
  CHECK(best->x[0] == 9);
  const StopContext from_gp = make_stop_context(gp, best);
  CHECK(from_gp.num_points == 8);
  CHECK(from_gp.mean_target == doctest::Approx(0.01 + 4.5e-3));
  CHECK(from_gp.max_std == doctest::Approx(best->std()));
}

TEST_CASE("acquisition: a guided-profiling loop converges on a smooth curve") {
  // Start from the two ends, add the max-variance point until the 5 % rule stops.
  auto energy = [](double c) { return 0.02 + 3e-4 * c + 1e-3 * std::ceil(c / 64.0); };
  Eigen::MatrixXd X(2, 1);
  X << 1, 512;
  Eigen::VectorXd y(2);
  y << energy(1), energy(512);
  IntegerGrid grid{{1}, {512}, {}};
  std::vector<std::unique_ptr<StopRule>> rules;
  rules.push_back(std::make_unique<MaxPointsRule>(25));
  rules.push_back(std::make_unique<RelativeStdRule>(0.05));
  StopDecision decision;
  int steps = 0;
  while (true) {
    Options o;
    o.restarts = 2;
    GaussianProcess gp(o);
    gp.fit(X, y);
    const auto best = max_variance_candidate(gp, grid);
    decision = should_stop(rules, make_stop_context(gp, best));
    if (decision.stop) break;
    X.conservativeResize(X.rows() + 1, Eigen::NoChange);
    X(X.rows() - 1, 0) = best->x[0];
    y.conservativeResize(y.size() + 1);
    y[y.size() - 1] = energy(best->x[0]);
    ++steps;
  }
  MESSAGE("guided profiling stopped after " << X.rows() << " points: " << decision.reason);
  CHECK(decision.stop);
  CHECK(X.rows() <= 25);
  CHECK(steps > 0);
}
