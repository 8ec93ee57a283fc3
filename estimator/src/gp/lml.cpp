#include "lml.hpp"

#include <cmath>

#include "factor.hpp"
#include "small_buffer.hpp"
#include "thor/gp/cholesky.hpp"

namespace thor::gp::detail {

namespace {
constexpr double kLog2Pi = 1.8378770664093453;
}

LmlEvaluator::LmlEvaluator(const Kernel& kernel, const MeanFunction& mean, const Eigen::MatrixXd& X,
                           const Eigen::VectorXd& y, bool learn_noise, double fixed_noise,
                           double jitter_min, double jitter_max, const Eigen::VectorXd* point_noise)
    : kernel_(kernel.clone()),
      mean_(mean.clone()),
      X_(X),
      y_(y),
      learn_noise_(learn_noise),
      fixed_noise_(fixed_noise),
      jitter_min_(jitter_min),
      jitter_max_(jitter_max),
      point_noise_(point_noise),
      pk_(kernel.num_params()),
      pm_(mean.num_params()),
      llt_(X.rows()) {  // sized here: a moved-in LLT copies its unset m_info (UBSan)
  const Eigen::Index n = X.rows();
  base_ = Eigen::MatrixXd::Zero(n, n);  // the strict upper triangle stays 0
  work_.resize(n, n);
  W_.resize(n, n);
  Linv_.resize(n, n);
  dK_.assign(static_cast<std::size_t>(pk_), Eigen::MatrixXd::Zero(n, n));
  r_.resize(n);
  alpha_.resize(n);
  mgrad_.resize(pm_);
}

double LmlEvaluator::evaluate(const Eigen::Ref<const Eigen::VectorXd>& theta,
                              Eigen::VectorXd* grad) {
  const Eigen::Index n = X_.rows();
  kernel_->set_log_params(theta.head(pk_));
  const double noise = learn_noise_ ? std::exp(theta[pk_]) : fixed_noise_;
  if (pm_ > 0) mean_->set_params(theta.tail(pm_));

  // The Gram matrix and its derivatives, lower triangles only (LLT reads the lower triangle).
  kernel_->gram_lower_with_gradients(X_, base_, dK_);
  base_.diagonal().array() += noise;
  if (point_noise_) base_.diagonal() += *point_noise_;
  factor_with_jitter(base_, work_, llt_, true, 0.0, jitter_min_, jitter_max_, nullptr, true);

  mean_->eval_batch(X_, r_);
  r_ = y_ - r_;
  alpha_ = r_;
  llt_.solveInPlace(alpha_);
  const double half_logdet = llt_.matrixLLT().diagonal().array().log().sum();
  const double lml = -0.5 * r_.dot(alpha_) - half_logdet - 0.5 * static_cast<double>(n) * kLog2Pi;
  if (!std::isfinite(lml))
    throw NumericalError("gp: log marginal likelihood is not finite at these hyperparameters");
  if (grad == nullptr) return lml;

  // dLML/dtheta_p = 1/2 tr(W dK_p), W = alpha alpha^T - K^-1, on lower triangles:
  // K^-1 = L^-T L^-1 from the triangular inverse and a rank update.
  grad->setZero(size());
  Linv_.setIdentity();
  llt_.matrixL().solveInPlace(Linv_);
  W_.setZero();
  W_.selfadjointView<Eigen::Lower>().rankUpdate(Linv_.transpose(), -1.0);
  for (Eigen::Index j = 0; j < n; ++j) W_.col(j).tail(n - j) += alpha_[j] * alpha_.tail(n - j);
  for (int p = 0; p < pk_; ++p) {
    const Eigen::MatrixXd& D = dK_[static_cast<std::size_t>(p)];
    double s = 0.0;
    for (Eigen::Index j = 0; j < n; ++j) {
      const Eigen::Index m = n - j - 1;
      s += W_(j, j) * D(j, j) + 2.0 * W_.col(j).tail(m).dot(D.col(j).tail(m));
    }
    (*grad)[p] = 0.5 * s;
  }
  if (learn_noise_) (*grad)[pk_] = 0.5 * noise * W_.trace();
  if (pm_ > 0) {
    // dLML/dbeta = alpha^T dm/dbeta
    SmallBuffer<16> x(static_cast<std::size_t>(X_.cols()));
    SmallBuffer<16> g(static_cast<std::size_t>(pm_));
    mgrad_.setZero();
    for (Eigen::Index i = 0; i < n; ++i) {
      for (Eigen::Index d = 0; d < X_.cols(); ++d) x[d] = X_(i, d);
      mean_->gradient(x.data(), g.data());
      for (int p = 0; p < pm_; ++p) mgrad_[p] += alpha_[i] * g[p];
    }
    grad->tail(pm_) = mgrad_;
  }
  return lml;
}

}  // namespace thor::gp::detail
