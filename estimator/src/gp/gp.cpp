#include "thor/gp/gp.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>

#include "checks.hpp"
#include "factor.hpp"
#include "lml.hpp"
#include "small_buffer.hpp"
#include "thor/error.hpp"

namespace thor::gp {

namespace {

using detail::check_finite_matrix;
using detail::fmt;
using detail::SmallBuffer;
constexpr double kLog2Pi = 1.8378770664093453;

}  // namespace

// ---------------------------------------------------------------------------
// GaussianProcess: construction

GaussianProcess::GaussianProcess(Options options) : options_(std::move(options)) {
  options_.validate();
  noise_variance_ = options_.initial_noise_variance;
}

GaussianProcess::GaussianProcess(std::unique_ptr<Kernel> kernel, std::unique_ptr<MeanFunction> mean,
                                 Options options)
    : options_(std::move(options)) {
  if (!kernel) throw InputError("gp: GaussianProcess: kernel is null");
  if (!mean) mean = std::make_unique<ZeroMean>(kernel->input_dim());
  if (mean->input_dim() != kernel->input_dim())
    throw InputError("gp: GaussianProcess: mean input_dim " + std::to_string(mean->input_dim()) +
                     " differs from kernel input_dim " + std::to_string(kernel->input_dim()));
  options_.kernel = kernel->name();
  options_.mean = mean->name();
  options_.validate();
  kernel_proto_ = std::move(kernel);
  mean_proto_ = std::move(mean);
  noise_variance_ = options_.initial_noise_variance;
}

GaussianProcess::GaussianProcess(const GaussianProcess& o)
    : options_(o.options_),
      kernel_proto_(o.kernel_proto_ ? o.kernel_proto_->clone() : nullptr),
      mean_proto_(o.mean_proto_ ? o.mean_proto_->clone() : nullptr),
      kernel_(o.kernel_ ? o.kernel_->clone() : nullptr),
      mean_(o.mean_ ? o.mean_->clone() : nullptr),
      noise_variance_(o.noise_variance_),
      jitter_(o.jitter_),
      lml_(o.lml_),
      conditioned_(o.conditioned_),
      X_(o.X_),
      y_(o.y_),
      Xn_(o.Xn_),
      yn_(o.yn_),
      pv_(o.pv_),
      pvn_(o.pvn_),
      x_lo_(o.x_lo_),
      x_range_(o.x_range_),
      x_inv_range_(o.x_inv_range_),
      y_mean_(o.y_mean_),
      y_std_(o.y_std_),
      L_(o.L_),
      Linv_(o.Linv_),
      alpha_(o.alpha_) {}

GaussianProcess& GaussianProcess::operator=(const GaussianProcess& o) {
  if (this != &o) {
    GaussianProcess copy(o);
    *this = std::move(copy);
  }
  return *this;
}

GaussianProcess::GaussianProcess(GaussianProcess&&) noexcept = default;
GaussianProcess& GaussianProcess::operator=(GaussianProcess&&) noexcept = default;
GaussianProcess::~GaussianProcess() = default;

// ---------------------------------------------------------------------------
// Data, components, factorisation

void GaussianProcess::set_data(const Eigen::Ref<const Eigen::MatrixXd>& X,
                               const Eigen::Ref<const Eigen::VectorXd>& y) {
  if (X.rows() == 0) throw InputError("gp: fit: no training points (X has 0 rows)");
  if (X.cols() == 0) throw InputError("gp: fit: inputs have 0 columns; need at least 1");
  if (X.rows() != y.size())
    throw InputError("gp: fit: X has " + std::to_string(X.rows()) + " rows but y has " +
                     std::to_string(y.size()) + " entries");
  if (kernel_proto_ && kernel_proto_->input_dim() != X.cols())
    throw InputError("gp: fit: X has " + std::to_string(X.cols()) +
                     " columns but the kernel expects " +
                     std::to_string(kernel_proto_->input_dim()));
  check_finite_matrix("fit", X);
  for (Eigen::Index i = 0; i < y.size(); ++i)
    if (!std::isfinite(y[i]))
      throw InputError("gp: fit: target " + std::to_string(i) + " is " + fmt(y[i]) +
                       "; targets must be finite");

  conditioned_ = false;
  X_ = X;
  y_ = y;
  const Eigen::Index d = X.cols();
  x_lo_ = Eigen::VectorXd::Zero(d);
  x_range_ = Eigen::VectorXd::Ones(d);
  if (options_.normalize_inputs) {
    for (Eigen::Index k = 0; k < d; ++k) {
      const double lo = X.col(k).minCoeff();
      const double hi = X.col(k).maxCoeff();
      x_lo_[k] = lo;
      // A dimension with a single value is only shifted: the kernel sees 0.
      x_range_[k] = hi > lo ? hi - lo : 1.0;
    }
  }
  x_inv_range_ = x_range_.cwiseInverse();
  Xn_ = (X_.rowwise() - x_lo_.transpose()).array().rowwise() * x_inv_range_.transpose().array();

  y_mean_ = 0.0;
  y_std_ = 1.0;
  if (options_.normalize_targets) {
    if (y.maxCoeff() == y.minCoeff()) {
      y_mean_ = y[0];  // constant targets: normalised targets are exactly 0
    } else {
      y_mean_ = y.mean();
      const double var = (y.array() - y_mean_).square().mean();
      y_std_ = var > 0.0 ? std::sqrt(var) : 1.0;
    }
  }
  yn_ = (y_.array() - y_mean_) / y_std_;
  pv_.resize(0);
  pvn_.resize(0);
}

void GaussianProcess::set_point_variance(const Eigen::Ref<const Eigen::VectorXd>& pv) {
  if (pv.size() != y_.size())
    throw InputError("gp: fit: point_variance has " + std::to_string(pv.size()) +
                     " entries but y has " + std::to_string(y_.size()));
  for (Eigen::Index i = 0; i < pv.size(); ++i)
    if (!(pv[i] >= 0.0) || !std::isfinite(pv[i]))
      throw InputError("gp: fit: point_variance " + std::to_string(i) + " is " + fmt(pv[i]) +
                       "; must be finite and >= 0");
  pv_ = pv;
  pvn_ = pv_ / (y_std_ * y_std_);
}

void GaussianProcess::make_components() {
  const int d = static_cast<int>(X_.cols());
  if (kernel_proto_) {
    kernel_ = kernel_proto_->clone();
    mean_ = mean_proto_->clone();
  } else {
    kernel_ = make_kernel(options_.kernel, d, options_.kernel_settings());
    mean_ = make_mean(options_.mean, d);
  }
  if (kernel_->input_dim() != d || mean_->input_dim() != d)
    throw InputError("gp: kernel/mean input_dim does not match the " + std::to_string(d) +
                     " input columns");
  mean_->set_param_bound(options_.mean_param_bound);
}

void GaussianProcess::apply_theta(const Eigen::Ref<const Eigen::VectorXd>& theta) {
  const int pk = kernel_->num_params();
  const int pm = mean_->num_params();
  kernel_->set_log_params(theta.head(pk));
  noise_variance_ = options_.learn_noise ? std::exp(theta[pk]) : options_.initial_noise_variance;
  if (pm > 0) mean_->set_params(theta.tail(pm));
}

void GaussianProcess::factorize(bool escalate) {
  const Eigen::Index n = Xn_.rows();
  Eigen::MatrixXd base(n, n), work(n, n);
  kernel_->gram(Xn_, base);
  base.diagonal().array() += noise_variance_;
  if (pvn_.size() == n) base.diagonal() += pvn_;
  Eigen::LLT<Eigen::MatrixXd> llt(n);
  jitter_ = detail::factor_with_jitter(base, work, llt, escalate, jitter_,
                                       options_.jitter_min_relative, options_.jitter_max_relative);
  L_ = llt.matrixL();
  Linv_ = Eigen::MatrixXd::Identity(n, n);
  L_.triangularView<Eigen::Lower>().solveInPlace(Linv_);
  Eigen::VectorXd m(n);
  mean_->eval_batch(Xn_, m);
  const Eigen::VectorXd r = yn_ - m;
  alpha_ = llt.solve(r);
  lml_ = -0.5 * r.dot(alpha_) - L_.diagonal().array().log().sum() -
         0.5 * static_cast<double>(n) * kLog2Pi;
  if (!alpha_.allFinite() || !Linv_.allFinite() || !std::isfinite(lml_))
    throw NumericalError("gp: conditioning produced non-finite numbers (" + summary() + ")");
  conditioned_ = true;
}

void GaussianProcess::require_conditioned(const char* where) const {
  if (!conditioned_)
    throw InputError(std::string("gp: ") + where +
                     ": the model has no data yet; call fit() or condition() first");
}

// ---------------------------------------------------------------------------
// Fitting

void GaussianProcess::condition(const Eigen::Ref<const Eigen::MatrixXd>& X,
                                const Eigen::Ref<const Eigen::VectorXd>& y,
                                const Hyperparameters& hp) {
  set_data(X, y);
  make_components();
  if (hp.kernel_log_params.size() != kernel_->num_params())
    throw InputError("gp: condition: kernel " + kernel_->name() + " takes " +
                     std::to_string(kernel_->num_params()) + " log-parameters, got " +
                     std::to_string(hp.kernel_log_params.size()));
  if (!hp.kernel_log_params.allFinite())
    throw InputError("gp: condition: kernel log-parameters must be finite");
  if (!(hp.noise_variance >= 0.0) || !std::isfinite(hp.noise_variance))
    throw InputError("gp: condition: noise_variance = " + fmt(hp.noise_variance) +
                     ": must be a finite number >= 0");
  kernel_->set_log_params(hp.kernel_log_params);
  noise_variance_ = hp.noise_variance;
  if (hp.mean_params.size() > 0) mean_->set_params(hp.mean_params);
  jitter_ = 0.0;
  factorize(true);
}

FitResult GaussianProcess::fit(const Eigen::Ref<const Eigen::MatrixXd>& X,
                               const Eigen::Ref<const Eigen::VectorXd>& y) {
  set_data(X, y);
  return fit_stored();
}

FitResult GaussianProcess::fit(const Eigen::Ref<const Eigen::MatrixXd>& X,
                               const Eigen::Ref<const Eigen::VectorXd>& y,
                               const Eigen::Ref<const Eigen::VectorXd>& point_variance) {
  set_data(X, y);
  set_point_variance(point_variance);
  return fit_stored();
}

double GaussianProcess::log_marginal_likelihood(const Eigen::Ref<const Eigen::VectorXd>& theta,
                                                Eigen::VectorXd* grad) const {
  require_conditioned("log_marginal_likelihood");
  detail::LmlEvaluator eval(*kernel_, *mean_, Xn_, yn_, options_.learn_noise, noise_variance_,
                            options_.jitter_min_relative, options_.jitter_max_relative);
  if (theta.size() != eval.size())
    throw InputError("gp: log_marginal_likelihood: theta has " + std::to_string(theta.size()) +
                     " entries, expected " + std::to_string(eval.size()));
  return eval.evaluate(theta, grad);
}

Eigen::VectorXd GaussianProcess::theta() const {
  require_conditioned("theta");
  const int pk = kernel_->num_params();
  const int pn = options_.learn_noise ? 1 : 0;
  const int pm = mean_->num_params();
  Eigen::VectorXd t(pk + pn + pm);
  t.head(pk) = kernel_->log_params();
  if (pn) t[pk] = std::log(noise_variance_);
  if (pm > 0) t.tail(pm) = mean_->params();
  return t;
}

std::vector<std::string> GaussianProcess::theta_names() const {
  require_conditioned("theta_names");
  std::vector<std::string> names = kernel_->param_names();
  if (options_.learn_noise) names.push_back("log_noise_variance");
  for (const auto& n : mean_->param_names()) names.push_back("mean." + n);
  return names;
}

Hyperparameters GaussianProcess::hyperparameters() const {
  require_conditioned("hyperparameters");
  Hyperparameters hp;
  hp.kernel_log_params = kernel_->log_params();
  hp.noise_variance = noise_variance_;
  hp.mean_params = mean_->params();
  return hp;
}

const Kernel& GaussianProcess::kernel() const {
  require_conditioned("kernel");
  return *kernel_;
}

const MeanFunction& GaussianProcess::mean() const {
  require_conditioned("mean");
  return *mean_;
}

std::string GaussianProcess::summary() const {
  std::ostringstream s;
  s << "gp " << options_.kernel << "/" << options_.mean;
  if (!kernel_) return s.str() + " (no data)";
  s << " n=" << y_.size() << " d=" << X_.cols() << " theta=[";
  const Eigen::VectorXd lp = kernel_->log_params();
  for (Eigen::Index i = 0; i < lp.size(); ++i) s << (i ? " " : "") << std::exp(lp[i]);
  s << "] noise=" << noise_variance_ << " lml=" << lml_;
  return s.str();
}

}  // namespace thor::gp
