#include "thor/gp/cholesky.hpp"

#include <cmath>
#include <sstream>

#include "factor.hpp"
#include "thor/error.hpp"

namespace thor::gp {

namespace detail {

namespace {

bool try_factor(const Eigen::MatrixXd& base, Eigen::MatrixXd& work,
                Eigen::LLT<Eigen::MatrixXd>& llt, double jitter) {
  work = base;
  if (jitter != 0.0) work.diagonal().array() += jitter;
  llt.compute(work);
  if (llt.info() != Eigen::Success) return false;
  // NaN pivots pass Eigen's "<= 0" test; reject them here.
  return llt.matrixLLT().diagonal().allFinite() && (llt.matrixLLT().diagonal().array() > 0.0).all();
}

}  // namespace

double factor_with_jitter(const Eigen::MatrixXd& base, Eigen::MatrixXd& work,
                          Eigen::LLT<Eigen::MatrixXd>& llt, bool escalate, double fixed_jitter,
                          double min_rel, double max_rel, int* attempts, bool lower_only) {
  const Eigen::Index n = base.rows();
  bool finite = true;
  if (lower_only) {
    for (Eigen::Index j = 0; j < n && finite; ++j) finite = base.col(j).tail(n - j).allFinite();
  } else {
    finite = base.allFinite();
  }
  if (!finite)
    throw NumericalError("gp: covariance matrix (" + std::to_string(n) + "x" + std::to_string(n) +
                         ") has non-finite entries; check inputs and hyperparameters");
  int tries = 0;
  if (!escalate) {
    ++tries;
    if (attempts) *attempts = tries;
    if (try_factor(base, work, llt, fixed_jitter)) return fixed_jitter;
    std::ostringstream msg;
    msg << "gp: covariance matrix (" << n << "x" << n
        << ") is not positive definite with the stored jitter " << fixed_jitter;
    throw NumericalError(msg.str());
  }
  ++tries;
  if (try_factor(base, work, llt, 0.0)) {
    if (attempts) *attempts = tries;
    return 0.0;
  }
  double scale = base.diagonal().cwiseAbs().mean();
  if (!(scale > 0.0)) scale = 1.0;
  double last = 0.0;
  for (double rel = min_rel; rel <= max_rel * (1.0 + 1e-9); rel *= 10.0) {
    ++tries;
    last = rel * scale;
    if (try_factor(base, work, llt, last)) {
      if (attempts) *attempts = tries;
      return last;
    }
  }
  if (attempts) *attempts = tries;
  std::ostringstream msg;
  msg << "gp: covariance matrix (" << n << "x" << n << ") stays indefinite after jitter up to "
      << last << " (" << max_rel << " x mean diagonal " << scale << "); smallest diagonal entry "
      << base.diagonal().minCoeff()
      << ". Duplicate inputs with a tiny noise variance, or a non-positive-definite kernel?";
  throw NumericalError(msg.str());
}

}  // namespace detail

CholeskyResult cholesky_with_jitter(const Eigen::Ref<const Eigen::MatrixXd>& A, double min_relative,
                                    double max_relative) {
  if (A.rows() != A.cols())
    throw InputError("gp: cholesky_with_jitter: matrix is " + std::to_string(A.rows()) + "x" +
                     std::to_string(A.cols()) + ", expected a square matrix");
  if (!(min_relative > 0.0) || !(max_relative >= min_relative))
    throw InputError("gp: cholesky_with_jitter: need 0 < min_relative <= max_relative");
  Eigen::MatrixXd base = A;
  base.triangularView<Eigen::StrictlyUpper>() = base.transpose();
  Eigen::MatrixXd work(A.rows(), A.cols());
  Eigen::LLT<Eigen::MatrixXd> llt(A.rows());
  CholeskyResult r;
  r.jitter = detail::factor_with_jitter(base, work, llt, true, 0.0, min_relative, max_relative,
                                        &r.attempts);
  r.lower = llt.matrixL();
  return r;
}

}  // namespace thor::gp
