#pragma once
// Internal: branch-free scalar math that compilers vectorise inside loops, and
// the attribute that builds hot loops twice (AVX2 and baseline x86-64) with
// run-time dispatch, so binaries stay portable (no -march).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(THOR_GP_NO_CLONES)
#define THOR_GP_HOT_LOOP __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define THOR_GP_HOT_LOOP
#endif

namespace thor::gp::detail {

/// exp(x) for x <= 709, clamped below at -708 (where exp is ~3e-308, far under
/// anything a covariance resolves). About 1 ulp: range reduction by ln 2 with a
/// two-part constant, then a degree-12 Taylor polynomial on |r| <= ln2 / 2.
inline double fast_exp(double x) {
  x = std::max(x, -708.0);
  constexpr double kLog2e = 1.4426950408889634;
  constexpr double kShift = 6755399441055744.0;  // 1.5 * 2^52: rounds to an integer
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  const double t = x * kLog2e + kShift;
  const double k = t - kShift;
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  double p = 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  std::int64_t ti, si;
  std::memcpy(&ti, &t, sizeof ti);
  std::memcpy(&si, &kShift, sizeof si);
  const std::uint64_t bits = static_cast<std::uint64_t>(ti - si + 1023) << 52;
  double scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

}  // namespace thor::gp::detail
