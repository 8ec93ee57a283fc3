#pragma once
// Internal: number formatting and input checks shared by the GP's sources.
#include <Eigen/Core>
#include <cmath>
#include <sstream>
#include <string>

#include "thor/error.hpp"

namespace thor::gp::detail {

/// Stack sizes below which prediction does not allocate.
constexpr std::size_t kStackDim = 16;
constexpr std::size_t kStackPoints = 512;

/// A double written so that it reads back bit for bit.
inline std::string fmt(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

/// Throws InputError naming the first non-finite entry of X.
inline void check_finite_matrix(const char* where, const Eigen::Ref<const Eigen::MatrixXd>& X) {
  if (X.allFinite()) return;
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    for (Eigen::Index d = 0; d < X.cols(); ++d)
      if (!std::isfinite(X(i, d)))
        throw InputError(std::string("gp: ") + where + ": input row " + std::to_string(i) +
                         ", column " + std::to_string(d) + " is " + fmt(X(i, d)) +
                         "; inputs must be finite");
}

}  // namespace thor::gp::detail
