#pragma once
/// \file
/// The energy model of one layer kind: a *work model* shaped like the
/// layer's work plus a Gaussian Process on what it leaves.
///
/// A layer's training cost grows with its channels: linearly in the channel
/// count for an input or output layer, bilinearly (C_in·C_out) for a hidden
/// one. On a CPU the kernels also work on channels in blocks of the vector
/// width, so the cost is stepped in the channel counts (see
/// ../shared/findings). The work model is a non-negative combination of
/// work terms (so it never falls as channels grow), with an optional stepped
/// term whose width is chosen among `step_widths` by leave-one-out error —
/// found from the device's data, not hard-coded. A GP (zero mean) fits the
/// residual with the known per-point noise on its diagonal; it is kept only
/// when it lowers the leave-one-out error. The predictive variance adds the
/// work model's coefficient uncertainty and is scaled up when the
/// leave-one-out errors are larger than the model claims.
#include <Eigen/Core>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "thor/gp/gp.hpp"

namespace thor {

/// Settings of a LayerModel fit.
struct LayerModelOptions {
  /// Channel block widths tried for the stepped work term; 1 means "no step".
  std::vector<int> step_widths = {1, 4, 8, 16, 32};
  /// A stepped model must cut the leave-one-out error by this fraction to
  /// be preferred over a smoother one (guards against chasing noise).
  double step_gain = 0.05;
  /// Fit a GP on the residual (kept only when it helps leave-one-out).
  bool residual_gp = true;
  /// Add squared work terms (c², or c_in² and c_out²): for blocks whose
  /// work grows with a width's square (ResNet blocks, LSTMs, encoders).
  /// Set per kind from the kind's traits, not by users.
  bool quadratic = false;
  /// Relative noise floor per point: a point's variance is at least
  /// (floor·|y|)^2, so one very quiet point cannot pin the whole fit.
  double relative_noise_floor = 0.005;
  /// Settings of the residual GP (its length-scale lower bound is raised to
  /// one channel step of the kind's range at fit time).
  gp::Options gp = default_gp();
  static gp::Options default_gp();
  /// Throws InputError naming the field, its value and the rule.
  void validate() const;
};

/// Fitted model of one layer kind over 1 or 2 channel features.
class LayerModel {
 public:
  /// Fits on X (n × d, d = 1 or 2, channel counts), y (joules per
  /// iteration) and the known variance of each y. Needs n >= 2.
  void fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::VectorXd& variance,
           const LayerModelOptions& options = {});
  bool fitted() const { return dims_ > 0; }
  int dims() const { return dims_; }

  /// Mean and variance at x (x has dims() entries). Thread-safe.
  gp::Prediction predict(const double* x) const;
  /// Mean only (the fast path). Thread-safe.
  double predict_mean(const double* x) const;

  /// Chosen step width (1: smooth).
  int step() const { return step_; }
  /// Whether the residual GP was kept.
  bool uses_gp() const { return residual_.has_value(); }
  /// Root mean square of the leave-one-out errors, relative to each point's
  /// |y| (floored at 5 % of the mean |y|): what the stop rule reads.
  double loo_relative_error() const { return loo_rel_; }
  /// Root mean square of the leave-one-out errors, in joules per iteration.
  double loo_rms() const { return loo_rms_; }
  /// Factor (>= 1) the predictive variance was scaled by so that
  /// leave-one-out errors are covered.
  double variance_scale() const { return kappa_; }
  /// Work-term coefficients (raw units, see term_names()).
  const Eigen::VectorXd& coefficients() const { return coef_; }
  std::vector<std::string> term_names() const;
  /// One line: terms, step, GP or not, LOO error.
  std::string summary() const;

  nlohmann::json to_json() const;
  /// Throws InputError naming `where` and the key that is missing or wrong.
  static LayerModel from_json(const nlohmann::json& j, const std::string& where);

  /// Whether the squared work terms are in (LayerModelOptions::quadratic).
  bool quadratic() const { return quadratic_; }
  /// Work terms of x for step width `step` (exposed for tests).
  static int terms(int dims, bool quadratic, int step, const double* x, double* out);

 private:
  int dims_ = 0;
  int step_ = 1;
  bool quadratic_ = false;
  Eigen::VectorXd coef_;      // one per term
  Eigen::MatrixXd coef_cov_;  // covariance of coef_ (zero rows for inactive terms)
  std::optional<gp::GaussianProcess> residual_;
  double loo_rel_ = 0.0;
  double loo_rms_ = 0.0;
  double kappa_ = 1.0;
};

/// Non-negative least squares min ||A x − b||, x_j >= 0 except where
/// `free_vars[j]` (Lawson–Hanson active set). Exposed for tests.
Eigen::VectorXd nnls(const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                     const std::vector<bool>& free_vars);

}  // namespace thor
