#pragma once
/// \file
/// Cholesky factorisation with jitter escalation, shared by fitting and
/// conditioning, and the numerical error it raises.
#include <Eigen/Core>
#include <stdexcept>
#include <string>

namespace thor::gp {

/// A covariance matrix that stays indefinite, or a computation that produced
/// non-finite numbers. The message starts with "gp: ".
class NumericalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Outcome of cholesky_with_jitter().
struct CholeskyResult {
  /// Lower-triangular factor L with L L^T = A + jitter I (upper part is zero).
  Eigen::MatrixXd lower;
  /// Absolute jitter added to the diagonal; 0 when A factored as given.
  double jitter = 0.0;
  /// Factorisations tried (1 when no jitter was needed).
  int attempts = 0;
};

/// Factors the symmetric matrix A (only its lower triangle is read). When A is
/// not numerically positive definite, retries with jitter = r * mean(diag(A))
/// for r = min_relative, 10 min_relative, ... up to max_relative, and throws
/// NumericalError naming the size, the largest jitter tried and the smallest
/// diagonal entry when none works. Throws NumericalError on non-finite entries.
CholeskyResult cholesky_with_jitter(const Eigen::Ref<const Eigen::MatrixXd>& A,
                                    double min_relative = 1e-10, double max_relative = 1e-4);

}  // namespace thor::gp
