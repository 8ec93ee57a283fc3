// Gaussian Process prediction: means, variances and mean gradients at new
// inputs, without heap allocation for small models (the Estimator's path).
#include <cmath>

#include "checks.hpp"
#include "small_buffer.hpp"
#include "thor/gp/gp.hpp"

namespace thor::gp {

using detail::check_finite_matrix;
using detail::fmt;
using detail::kStackDim;
using detail::kStackPoints;
using detail::SmallBuffer;

// ---------------------------------------------------------------------------
// Prediction

Prediction GaussianProcess::predict(const Eigen::Ref<const Eigen::VectorXd>& x,
                                    bool with_noise) const {
  if (!conditioned_) require_conditioned("predict");
  const Eigen::Index d = X_.cols();
  const Eigen::Index n = Xn_.rows();
  if (x.size() != d)
    throw InputError("gp: predict: point has " + std::to_string(x.size()) +
                     " coordinates, expected " + std::to_string(d));
  SmallBuffer<kStackDim> xn(static_cast<std::size_t>(d));
  for (Eigen::Index k = 0; k < d; ++k) {
    if (!std::isfinite(x[k]))
      throw InputError("gp: predict: coordinate " + std::to_string(k) + " is " + fmt(x[k]) +
                       "; inputs must be finite");
    xn[static_cast<std::size_t>(k)] = (x[k] - x_lo_[k]) * x_inv_range_[k];
  }
  SmallBuffer<kStackPoints> kbuf(static_cast<std::size_t>(n));
  SmallBuffer<kStackPoints> vbuf(static_cast<std::size_t>(n));
  kernel_->cross_point(xn.data(), Xn_, kbuf.data());
  Eigen::Map<const Eigen::VectorXd> k(kbuf.data(), n);
  const double mean_n = mean_->eval(xn.data()) + k.dot(alpha_);

  // v = L^-1 k, accumulated column by column (vectorised axpy).
  Eigen::Map<Eigen::VectorXd> v(vbuf.data(), n);
  v.setZero();
  for (Eigen::Index j = 0; j < n; ++j) v.tail(n - j).noalias() += k[j] * Linv_.col(j).tail(n - j);
  double var_n = std::max(kernel_->diag(xn.data()) - v.squaredNorm(), 0.0);
  if (with_noise) var_n += noise_variance_;
  return Prediction{y_std_ * mean_n + y_mean_, var_n * y_std_ * y_std_};
}

double GaussianProcess::predict_mean(const Eigen::Ref<const Eigen::VectorXd>& x) const {
  if (!conditioned_) require_conditioned("predict_mean");
  const Eigen::Index d = X_.cols();
  const Eigen::Index n = Xn_.rows();
  if (x.size() != d)
    throw InputError("gp: predict_mean: point has " + std::to_string(x.size()) +
                     " coordinates, expected " + std::to_string(d));
  SmallBuffer<kStackDim> xn(static_cast<std::size_t>(d));
  for (Eigen::Index k = 0; k < d; ++k) {
    if (!std::isfinite(x[k]))
      throw InputError("gp: predict_mean: coordinate " + std::to_string(k) + " is " + fmt(x[k]) +
                       "; inputs must be finite");
    xn[static_cast<std::size_t>(k)] = (x[k] - x_lo_[k]) * x_inv_range_[k];
  }
  SmallBuffer<kStackPoints> kbuf(static_cast<std::size_t>(n));
  kernel_->cross_point(xn.data(), Xn_, kbuf.data());
  const double mean_n =
      mean_->eval(xn.data()) + Eigen::Map<const Eigen::VectorXd>(kbuf.data(), n).dot(alpha_);
  return y_std_ * mean_n + y_mean_;
}

Eigen::VectorXd GaussianProcess::predict_batch(const Eigen::Ref<const Eigen::MatrixXd>& X,
                                               Eigen::VectorXd* variance, bool with_noise) const {
  require_conditioned("predict_batch");
  const Eigen::Index d = X_.cols();
  const Eigen::Index n = Xn_.rows();
  const Eigen::Index m = X.rows();
  if (X.cols() != d)
    throw InputError("gp: predict_batch: points have " + std::to_string(X.cols()) +
                     " columns, expected " + std::to_string(d));
  check_finite_matrix("predict_batch", X);
  Eigen::VectorXd means(m);
  if (variance) variance->resize(m);
  constexpr Eigen::Index kBlock = 256;
  Eigen::MatrixXd Q(std::min(kBlock, m), d), Kb(std::min(kBlock, m), n), V;
  Eigen::VectorXd mb(std::min(kBlock, m));
  SmallBuffer<kStackDim> row(static_cast<std::size_t>(d));
  for (Eigen::Index start = 0; start < m; start += kBlock) {
    const Eigen::Index b = std::min(kBlock, m - start);
    auto Qb = Q.topRows(b);
    for (Eigen::Index k = 0; k < d; ++k)
      Qb.col(k) = (X.col(k).segment(start, b).array() - x_lo_[k]) * x_inv_range_[k];
    auto Kblk = Kb.topRows(b);
    kernel_->cross(Qb, Xn_, Kblk);
    auto mblk = mb.head(b);
    mean_->eval_batch(Qb, mblk);
    mblk.noalias() += Kblk * alpha_;
    means.segment(start, b) = (y_std_ * mblk.array() + y_mean_).matrix();
    if (variance) {
      V.noalias() = Linv_.triangularView<Eigen::Lower>() * Kblk.transpose();
      for (Eigen::Index i = 0; i < b; ++i) {
        for (Eigen::Index k = 0; k < d; ++k) row[static_cast<std::size_t>(k)] = Qb(i, k);
        double var_n = std::max(kernel_->diag(row.data()) - V.col(i).squaredNorm(), 0.0);
        if (with_noise) var_n += noise_variance_;
        (*variance)[start + i] = var_n * y_std_ * y_std_;
      }
    }
  }
  return means;
}

Eigen::VectorXd GaussianProcess::mean_gradient(const Eigen::Ref<const Eigen::VectorXd>& x) const {
  require_conditioned("mean_gradient");
  const Eigen::Index d = X_.cols();
  if (x.size() != d)
    throw InputError("gp: mean_gradient: point has " + std::to_string(x.size()) +
                     " coordinates, expected " + std::to_string(d));
  Eigen::VectorXd xn(d), gk(d), gm(d);
  for (Eigen::Index k = 0; k < d; ++k) {
    if (!std::isfinite(x[k]))
      throw InputError("gp: mean_gradient: coordinate " + std::to_string(k) + " is " + fmt(x[k]) +
                       "; inputs must be finite");
    xn[k] = (x[k] - x_lo_[k]) * x_inv_range_[k];
  }
  kernel_->input_gradient_sum(xn.data(), Xn_, alpha_.data(), gk.data());
  mean_->input_gradient(xn.data(), gm.data());
  return ((gk + gm).array() * x_inv_range_.array() * y_std_).matrix();
}

}  // namespace thor::gp
