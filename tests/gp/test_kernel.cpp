// Kernels and means: values, analytic gradients vs finite differences, bulk
// operations vs per-pair ones, registries.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <random>

#include "thor/error.hpp"
#include "thor/gp/kernel.hpp"
#include "thor/gp/mean.hpp"

using namespace thor::gp;

namespace {

const char* const kKernels[] = {"matern12", "matern32", "matern52", "rbf"};

std::unique_ptr<Kernel> kernel_with_params(const std::string& name, int dim, std::mt19937& rng) {
  auto k = make_kernel(name, dim);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Eigen::VectorXd p(k->num_params());
  for (Eigen::Index i = 0; i < p.size(); ++i) p[i] = u(rng);
  k->set_log_params(p);
  return k;
}

Eigen::MatrixXd random_points(int n, int dim, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Eigen::MatrixXd X(n, dim);
  for (int i = 0; i < n; ++i)
    for (int d = 0; d < dim; ++d) X(i, d) = u(rng);
  return X;
}

}  // namespace

TEST_CASE("kernels: known values at r = 0 and r = 1") {
  const double a[1] = {0.0}, b[1] = {1.0};
  const double s3 = std::sqrt(3.0), s5 = std::sqrt(5.0);
  const double expect[] = {std::exp(-1.0), (1 + s3) * std::exp(-s3),
                           (1 + s5 + 5.0 / 3.0) * std::exp(-s5), std::exp(-0.5)};
  for (int i = 0; i < 4; ++i) {
    auto k = make_kernel(kKernels[i], 1);
    k->set_log_params(stationary_log_params(Eigen::VectorXd::Ones(1), 2.0));
    CAPTURE(kKernels[i]);
    CHECK(k->eval(a, a) == doctest::Approx(2.0).epsilon(1e-15));
    CHECK(k->eval(a, b) == doctest::Approx(2.0 * expect[i]).epsilon(1e-14));
    CHECK(k->name() == kKernels[i]);
    CHECK(k->num_params() == 2);
  }
}

TEST_CASE("kernels: hyperparameter gradients match central finite differences") {
  std::mt19937 rng(7);
  for (const char* name : kKernels) {
    for (int dim : {1, 2, 3}) {
      CAPTURE(name);
      CAPTURE(dim);
      auto k = kernel_with_params(name, dim, rng);
      const Eigen::MatrixXd P = random_points(6, dim, rng);
      const Eigen::VectorXd p0 = k->log_params();
      std::vector<double> g(p0.size());
      for (int i = 0; i < 6; ++i) {
        for (int j = 0; j < 6; ++j) {
          const Eigen::VectorXd a = P.row(i).transpose(), b = P.row(j).transpose();
          k->set_log_params(p0);
          k->gradient(a.data(), b.data(), g.data());
          for (Eigen::Index q = 0; q < p0.size(); ++q) {
            const double h = 1e-6;
            Eigen::VectorXd pp = p0, pm = p0;
            pp[q] += h;
            pm[q] -= h;
            k->set_log_params(pp);
            const double fp = k->eval(a.data(), b.data());
            k->set_log_params(pm);
            const double fm = k->eval(a.data(), b.data());
            const double fd = (fp - fm) / (2 * h);
            CHECK(g[q] == doctest::Approx(fd).epsilon(1e-6).scale(1.0));
          }
        }
      }
    }
  }
}

TEST_CASE("kernels: input gradients match finite differences") {
  std::mt19937 rng(11);
  for (const char* name : kKernels) {
    CAPTURE(name);
    auto k = kernel_with_params(name, 2, rng);
    const Eigen::MatrixXd P = random_points(5, 2, rng);
    for (int i = 0; i < 5; ++i) {
      for (int j = 0; j < 5; ++j) {
        if (i == j) continue;  // Matérn 1/2 is not differentiable at r = 0
        Eigen::Vector2d x = P.row(i).transpose(), b = P.row(j).transpose();
        double g[2];
        k->input_gradient(x.data(), b.data(), g);
        for (int d = 0; d < 2; ++d) {
          const double h = 1e-6;
          Eigen::Vector2d xp = x, xm = x;
          xp[d] += h;
          xm[d] -= h;
          const double fd = (k->eval(xp.data(), b.data()) - k->eval(xm.data(), b.data())) / (2 * h);
          CHECK(g[d] == doctest::Approx(fd).epsilon(1e-6).scale(1.0));
        }
      }
    }
  }
}

TEST_CASE("kernels: bulk operations agree with the per-pair functions") {
  std::mt19937 rng(3);
  for (const char* name : kKernels) {
    CAPTURE(name);
    auto k = kernel_with_params(name, 2, rng);
    const Eigen::MatrixXd X = random_points(9, 2, rng), A = random_points(4, 2, rng);
    Eigen::MatrixXd K(9, 9), C(4, 9);
    k->gram(X, K);
    k->cross(A, X, C);
    Eigen::MatrixXd KL = Eigen::MatrixXd::Zero(9, 9);
    std::vector<Eigen::MatrixXd> dK(k->num_params(), Eigen::MatrixXd::Zero(9, 9));
    k->gram_lower_with_gradients(X, KL, dK);
    std::vector<double> g(k->num_params());
    for (int i = 0; i < 9; ++i) {
      const Eigen::Vector2d a = X.row(i).transpose();
      for (int j = 0; j < 9; ++j) {
        const Eigen::Vector2d b = X.row(j).transpose();
        CHECK(K(i, j) == doctest::Approx(k->eval(a.data(), b.data())).epsilon(1e-14));
        if (j > i) continue;
        CHECK(KL(i, j) == doctest::Approx(K(i, j)).epsilon(1e-14));
        k->gradient(a.data(), b.data(), g.data());
        for (std::size_t q = 0; q < g.size(); ++q)
          CHECK(dK[q](i, j) == doctest::Approx(g[q]).epsilon(1e-13).scale(1e-300));
      }
    }
    for (int i = 0; i < 4; ++i) {
      const Eigen::Vector2d a = A.row(i).transpose();
      for (int j = 0; j < 9; ++j) {
        const Eigen::Vector2d b = X.row(j).transpose();
        CHECK(C(i, j) == doctest::Approx(k->eval(a.data(), b.data())).epsilon(1e-14));
      }
    }
    auto c = k->clone();
    CHECK(c->log_params() == k->log_params());
    CHECK(c->name() == k->name());
  }
}

namespace {

// A kernel that implements only the per-pair functions, so the base class's
// generic bulk operations are used.
class PairOnly final : public Kernel {
 public:
  explicit PairOnly(std::unique_ptr<Kernel> inner) : inner_(std::move(inner)) {}
  std::string name() const override { return "pair_only"; }
  int input_dim() const override { return inner_->input_dim(); }
  int num_params() const override { return inner_->num_params(); }
  std::vector<std::string> param_names() const override { return inner_->param_names(); }
  Eigen::VectorXd log_params() const override { return inner_->log_params(); }
  void set_log_params(const Eigen::Ref<const Eigen::VectorXd>& p) override {
    inner_->set_log_params(p);
  }
  Eigen::VectorXd log_lower_bounds() const override { return inner_->log_lower_bounds(); }
  Eigen::VectorXd log_upper_bounds() const override { return inner_->log_upper_bounds(); }
  std::unique_ptr<Kernel> clone() const override {
    return std::make_unique<PairOnly>(inner_->clone());
  }
  double eval(const double* a, const double* b) const override { return inner_->eval(a, b); }
  void gradient(const double* a, const double* b, double* g) const override {
    inner_->gradient(a, b, g);
  }
  void input_gradient(const double* x, const double* b, double* g) const override {
    inner_->input_gradient(x, b, g);
  }

 private:
  std::unique_ptr<Kernel> inner_;
};

}  // namespace

TEST_CASE("kernels: the generic bulk operations match the specialised ones") {
  std::mt19937 rng(5);
  for (const char* name : kKernels) {
    CAPTURE(name);
    auto k = kernel_with_params(name, 2, rng);
    PairOnly generic(k->clone());
    const Eigen::MatrixXd X = random_points(7, 2, rng), A = random_points(3, 2, rng);
    Eigen::MatrixXd K1(7, 7), K2(7, 7), C1(3, 7), C2(3, 7);
    k->gram(X, K1);
    generic.gram(X, K2);
    CHECK((K1 - K2).cwiseAbs().maxCoeff() < 1e-14);
    k->cross(A, X, C1);
    generic.cross(A, X, C2);
    CHECK((C1 - C2).cwiseAbs().maxCoeff() < 1e-14);
    Eigen::MatrixXd L1 = Eigen::MatrixXd::Zero(7, 7), L2 = L1;
    std::vector<Eigen::MatrixXd> d1(3, L1), d2(3, L1);
    k->gram_lower_with_gradients(X, L1, d1);
    generic.gram_lower_with_gradients(X, L2, d2);
    CHECK((L1 - L2).cwiseAbs().maxCoeff() < 1e-14);
    for (int p = 0; p < 3; ++p) CHECK((d1[p] - d2[p]).cwiseAbs().maxCoeff() < 1e-13);
    const Eigen::Vector2d x(0.3, 0.6);
    Eigen::VectorXd w = Eigen::VectorXd::Random(7);
    double g1[2], g2[2];
    k->input_gradient_sum(x.data(), X, w.data(), g1);
    generic.input_gradient_sum(x.data(), X, w.data(), g2);
    CHECK(g1[0] == doctest::Approx(g2[0]).epsilon(1e-13));
    CHECK(g1[1] == doctest::Approx(g2[1]).epsilon(1e-13));
    CHECK(generic.diag(x.data()) == doctest::Approx(k->diag(x.data())));
  }
}

TEST_CASE("kernels: registry and settings") {
  CHECK(kernel_registry().names().size() >= 4);
  CHECK_THROWS_AS(make_kernel("nope", 1), thor::InputError);
  try {
    make_kernel("nope", 1);
  } catch (const thor::InputError& e) {
    CHECK(std::string(e.what()).rfind("gp: unknown kernel 'nope'", 0) == 0);
    CHECK(std::string(e.what()).find("matern52") != std::string::npos);
  }
  KernelSettings s;
  s.length_scale_lower = 10;
  s.length_scale_upper = 1;
  CHECK_THROWS_AS(s.validate(), thor::InputError);
  CHECK_THROWS_AS(make_kernel("rbf", 0), thor::InputError);
}

TEST_CASE("means: values, gradients, registry") {
  auto lin = make_mean("linear", 2);
  Eigen::Vector3d p(0.5, -1.0, 2.0);
  lin->set_params(p);
  const double x[2] = {0.25, 0.75};
  CHECK(lin->eval(x) == doctest::Approx(0.5 - 0.25 + 1.5));
  double g[3];
  lin->gradient(x, g);
  CHECK(g[0] == 1.0);
  CHECK(g[1] == 0.25);
  CHECK(g[2] == 0.75);
  lin->input_gradient(x, g);
  CHECK(g[0] == -1.0);
  CHECK(g[1] == 2.0);
  Eigen::MatrixXd X(2, 2);
  X << 0.25, 0.75, 1.0, 0.0;
  Eigen::VectorXd out(2);
  lin->eval_batch(X, out);
  CHECK(out[0] == doctest::Approx(1.75));
  CHECK(out[1] == doctest::Approx(-0.5));
  auto c = make_mean("constant", 2);
  c->set_params(Eigen::VectorXd::Constant(1, 3.0));
  CHECK(c->eval(x) == 3.0);
  CHECK(make_mean("zero", 2)->eval(x) == 0.0);
  CHECK_THROWS_AS(make_mean("quadratic", 2), thor::InputError);
  CHECK_THROWS_AS(lin->set_params(Eigen::VectorXd::Zero(2)), thor::InputError);
}
