// thor::gp against scikit-learn 1.2 (golden cases from tests/gp/make_golden.py).
#include <doctest/doctest.h>

#include <cmath>

#include "golden_cases.hpp"
#include "thor/gp/gp.hpp"

using namespace thor::gp;
using thor::gp::test::GoldenCase;
using thor::gp::test::rel_err;

namespace {

const std::vector<GoldenCase>& cases() {
  static const std::vector<GoldenCase> c = thor::gp::test::load_golden();
  return c;
}

// Conditions on sklearn's fitted hyperparameters. With normalised inputs the
// raw length scales are divided by each dimension's training range, which is
// the same kernel.
GaussianProcess fixed_gp(const GoldenCase& c, bool normalize_inputs) {
  Options o;
  o.kernel = c.kernel;
  o.normalize_inputs = normalize_inputs;
  GaussianProcess gp(o);
  Eigen::VectorXd ls = c.length_scale;
  if (normalize_inputs) {
    const Eigen::VectorXd range = c.X.colwise().maxCoeff() - c.X.colwise().minCoeff();
    ls = ls.cwiseQuotient(range);
  }
  Hyperparameters hp;
  hp.kernel_log_params = stationary_log_params(ls, c.signal_variance);
  hp.noise_variance = c.noise_variance;
  gp.condition(c.X, c.y, hp);
  return gp;
}

void check_against_sklearn(const GoldenCase& c, const GaussianProcess& gp) {
  CHECK_MESSAGE(rel_err(gp.log_marginal_likelihood(), c.lml) < 1e-8,
                c.name << ": lml " << gp.log_marginal_likelihood() << " vs sklearn " << c.lml);
  CHECK(gp.jitter() == 0.0);
  Eigen::VectorXd var;
  const Eigen::VectorXd means = gp.predict_batch(c.T, &var, c.std_includes_noise);
  double worst_mean = 0, worst_std = 0;
  for (Eigen::Index i = 0; i < c.T.rows(); ++i) {
    const Prediction p = gp.predict(c.T.row(i).transpose(), c.std_includes_noise);
    worst_mean = std::max({worst_mean, rel_err(p.mean, c.mean[i]), rel_err(means[i], c.mean[i])});
    worst_std =
        std::max({worst_std, rel_err(p.std(), c.std[i]), rel_err(std::sqrt(var[i]), c.std[i])});
  }
  CHECK_MESSAGE(worst_mean < 1e-8, c.name << ": worst relative mean error " << worst_mean);
  CHECK_MESSAGE(worst_std < 1e-8, c.name << ": worst relative std error " << worst_std);
}

}  // namespace

TEST_CASE("golden: the file has cases for every kernel, 1-D and 2-D, with and without noise") {
  REQUIRE(cases().size() >= 8);
  int d1 = 0, d2 = 0, noisy = 0;
  for (const auto& c : cases()) {
    d1 += c.dim == 1;
    d2 += c.dim == 2;
    noisy += c.noise_kernel;
  }
  CHECK(d1 > 0);
  CHECK(d2 > 0);
  CHECK(noisy > 0);
}

TEST_CASE("golden: sklearn's hyperparameters reproduce its predictions and LML (raw inputs)") {
  for (const auto& c : cases()) {
    CAPTURE(c.name);
    check_against_sklearn(c, fixed_gp(c, false));
  }
}

TEST_CASE("golden: same with normalised inputs and converted length scales") {
  for (const auto& c : cases()) {
    CAPTURE(c.name);
    check_against_sklearn(c, fixed_gp(c, true));
  }
}

TEST_CASE("golden: thor's own fit reaches sklearn's log marginal likelihood") {
  for (const auto& c : cases()) {
    Options o;
    o.kernel = c.kernel;
    GaussianProcess gp(o);
    const FitResult r = gp.fit(c.X, c.y);
    CHECK_MESSAGE(r.ok(), c.name << ": " << r.message);
    CHECK_MESSAGE(r.log_marginal_likelihood >= c.lml - 1e-3,
                  c.name << ": thor " << r.log_marginal_likelihood << " < sklearn " << c.lml << " ("
                         << gp.summary() << ")");
  }
}

TEST_CASE("golden: with sklearn's fixed noise (alpha) thor's optimiser is as good as sklearn's") {
  // In the cases without a WhiteKernel sklearn's noise is alpha = 1e-10; fixing
  // thor's noise there gives both optimisers the same problem.
  for (const auto& c : cases()) {
    if (c.noise_kernel) continue;
    Options o;
    o.kernel = c.kernel;
    o.learn_noise = false;
    o.initial_noise_variance = c.noise_variance;
    GaussianProcess gp(o);
    const FitResult r = gp.fit(c.X, c.y);
    CHECK_MESSAGE(r.ok(), c.name << ": " << r.message);
    CHECK_MESSAGE(r.log_marginal_likelihood >= c.lml - 1e-3,
                  c.name << ": thor " << r.log_marginal_likelihood << " < sklearn " << c.lml << " ("
                         << gp.summary() << ")");
  }
}
