#include "thor/gp/mean.hpp"

#include "thor/error.hpp"

namespace thor::gp {

namespace {

void check_size(const std::string& name, const Eigen::Ref<const Eigen::VectorXd>& p, int expected) {
  if (p.size() != expected)
    throw InputError("gp: mean " + name + ": expected " + std::to_string(expected) +
                     " parameters, got " + std::to_string(p.size()));
}

}  // namespace

void MeanFunction::eval_batch(const Eigen::Ref<const Eigen::MatrixXd>& X,
                              Eigen::Ref<Eigen::VectorXd> out) const {
  double buf[16];
  std::vector<double> heap;
  double* x = buf;
  if (X.cols() > 16) {
    heap.resize(static_cast<std::size_t>(X.cols()));
    x = heap.data();
  }
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    for (Eigen::Index d = 0; d < X.cols(); ++d) x[d] = X(i, d);
    out[i] = eval(x);
  }
}

// Zero -----------------------------------------------------------------------

void ZeroMean::set_params(const Eigen::Ref<const Eigen::VectorXd>& p) { check_size(name(), p, 0); }
std::unique_ptr<MeanFunction> ZeroMean::clone() const {
  auto m = std::make_unique<ZeroMean>(dim_);
  m->set_param_bound(param_bound());
  return m;
}
void ZeroMean::input_gradient(const double*, double* grad) const {
  for (int d = 0; d < dim_; ++d) grad[d] = 0.0;
}
void ZeroMean::eval_batch(const Eigen::Ref<const Eigen::MatrixXd>&,
                          Eigen::Ref<Eigen::VectorXd> out) const {
  out.setZero();
}

// Constant -------------------------------------------------------------------

Eigen::VectorXd ConstantMean::params() const { return Eigen::VectorXd::Constant(1, c_); }
void ConstantMean::set_params(const Eigen::Ref<const Eigen::VectorXd>& p) {
  check_size(name(), p, 1);
  c_ = p[0];
}
std::unique_ptr<MeanFunction> ConstantMean::clone() const {
  auto m = std::make_unique<ConstantMean>(dim_, c_);
  m->set_param_bound(param_bound());
  return m;
}
void ConstantMean::input_gradient(const double*, double* grad) const {
  for (int d = 0; d < dim_; ++d) grad[d] = 0.0;
}
void ConstantMean::eval_batch(const Eigen::Ref<const Eigen::MatrixXd>&,
                              Eigen::Ref<Eigen::VectorXd> out) const {
  out.setConstant(c_);
}

// Linear ---------------------------------------------------------------------

LinearMean::LinearMean(int input_dim) : dim_(input_dim), w_(Eigen::VectorXd::Zero(input_dim)) {}

std::vector<std::string> LinearMean::param_names() const {
  std::vector<std::string> names{"constant"};
  for (int d = 0; d < dim_; ++d) names.push_back("weight[" + std::to_string(d) + "]");
  return names;
}
Eigen::VectorXd LinearMean::params() const {
  Eigen::VectorXd p(dim_ + 1);
  p[0] = c_;
  p.tail(dim_) = w_;
  return p;
}
void LinearMean::set_params(const Eigen::Ref<const Eigen::VectorXd>& p) {
  check_size(name(), p, dim_ + 1);
  c_ = p[0];
  w_ = p.tail(dim_);
}
std::unique_ptr<MeanFunction> LinearMean::clone() const {
  auto m = std::make_unique<LinearMean>(dim_);
  m->c_ = c_;
  m->w_ = w_;
  m->set_param_bound(param_bound());
  return m;
}
double LinearMean::eval(const double* x) const {
  double v = c_;
  for (int d = 0; d < dim_; ++d) v += w_[d] * x[d];
  return v;
}
void LinearMean::gradient(const double* x, double* grad) const {
  grad[0] = 1.0;
  for (int d = 0; d < dim_; ++d) grad[d + 1] = x[d];
}
void LinearMean::input_gradient(const double*, double* grad) const {
  for (int d = 0; d < dim_; ++d) grad[d] = w_[d];
}
void LinearMean::eval_batch(const Eigen::Ref<const Eigen::MatrixXd>& X,
                            Eigen::Ref<Eigen::VectorXd> out) const {
  out.setConstant(c_);
  out.noalias() += X * w_;
}

// Registry ---------------------------------------------------------------------

Registry<MeanFactory>& mean_registry() {
  static Registry<MeanFactory> registry("gp mean", [] {
    return Registry<MeanFactory>::Entries{
        {"zero", [](int d) { return std::unique_ptr<MeanFunction>(new ZeroMean(d)); }},
        {"constant", [](int d) { return std::unique_ptr<MeanFunction>(new ConstantMean(d)); }},
        {"linear", [](int d) { return std::unique_ptr<MeanFunction>(new LinearMean(d)); }}};
  });
  return registry;
}

std::unique_ptr<MeanFunction> make_mean(const std::string& name, int input_dim) {
  if (!mean_registry().contains(name))
    throw InputError("gp: unknown mean '" + name +
                     "'; registered means: " + mean_registry().known());
  return mean_registry().get(name)(input_dim);
}

}  // namespace thor::gp
