#pragma once
// Internal: Cholesky with jitter escalation on reusable buffers (no allocation
// once the LLT object has the right size).
#include <Eigen/Cholesky>
#include <Eigen/Core>

namespace thor::gp::detail {

/// Factors `base` (+ jitter on the diagonal) into `llt`. With escalate, tries
/// jitter 0, then r * mean|diag| for r = min_rel, 10 min_rel, ..., max_rel;
/// otherwise tries exactly `fixed_jitter`. Returns the jitter used; throws
/// NumericalError when no attempt gives a finite positive-definite factor.
/// With lower_only, only the lower triangle of `base` is checked for
/// finiteness (the factorisation never reads the upper one).
double factor_with_jitter(const Eigen::MatrixXd& base, Eigen::MatrixXd& work,
                          Eigen::LLT<Eigen::MatrixXd>& llt, bool escalate, double fixed_jitter,
                          double min_rel, double max_rel, int* attempts = nullptr,
                          bool lower_only = false);

}  // namespace thor::gp::detail
