#pragma once
// Internal: the log marginal likelihood and its gradient on reusable buffers.
#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <memory>
#include <vector>

#include "thor/gp/kernel.hpp"
#include "thor/gp/mean.hpp"

namespace thor::gp::detail {

/// Evaluates log p(y | X, theta) for theta = [kernel log-params, log noise
/// (when learned), mean params]. Owns clones of the kernel and mean, so one
/// evaluator per thread. X and y must outlive it.
class LmlEvaluator {
 public:
  LmlEvaluator(const Kernel& kernel, const MeanFunction& mean, const Eigen::MatrixXd& X,
               const Eigen::VectorXd& y, bool learn_noise, double fixed_noise, double jitter_min,
               double jitter_max, const Eigen::VectorXd* point_noise = nullptr);

  /// Number of entries of theta.
  int size() const { return pk_ + (learn_noise_ ? 1 : 0) + pm_; }
  /// LML at theta; the gradient goes to *grad when not null. Throws
  /// NumericalError when the covariance cannot be factored.
  double evaluate(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::VectorXd* grad);

 private:
  std::unique_ptr<Kernel> kernel_;
  std::unique_ptr<MeanFunction> mean_;
  const Eigen::MatrixXd& X_;
  const Eigen::VectorXd& y_;
  bool learn_noise_;
  double fixed_noise_;
  double jitter_min_, jitter_max_;
  const Eigen::VectorXd* point_noise_;  // known per-point noise (normalised), or null
  int pk_, pm_;
  Eigen::MatrixXd base_, work_, W_, Linv_;
  std::vector<Eigen::MatrixXd> dK_;
  Eigen::LLT<Eigen::MatrixXd> llt_;
  Eigen::VectorXd r_, alpha_, mgrad_;
};

}  // namespace thor::gp::detail
