// The GP's Options (validated with the field, value and rule named) and the
// text of a fit's result.
#include <cmath>
#include <sstream>

#include "checks.hpp"
#include "thor/gp/gp.hpp"

namespace thor::gp {

using detail::fmt;

namespace {

void require_positive(const char* field, double v) {
  if (!(v > 0.0) || !std::isfinite(v))
    throw InputError(std::string("gp: Options.") + field + " = " + fmt(v) +
                     ": must be a positive finite number");
}

void require_order(const char* lo_name, double lo, const char* hi_name, double hi) {
  if (lo > hi)
    throw InputError(std::string("gp: Options.") + lo_name + " = " + fmt(lo) +
                     ": must not exceed Options." + hi_name + " = " + fmt(hi));
}

void require_in(const char* field, double v, double lo, const char* lo_name, double hi,
                const char* hi_name) {
  if (v < lo || v > hi)
    throw InputError(std::string("gp: Options.") + field + " = " + fmt(v) +
                     ": must lie within [Options." + lo_name + ", Options." + hi_name + "] = [" +
                     fmt(lo) + ", " + fmt(hi) + "]");
}

}  // namespace

// ---------------------------------------------------------------------------
// Options, results

void Options::validate() const {
  if (kernel.empty()) throw InputError("gp: Options.kernel is empty: name a registered kernel");
  if (mean.empty()) throw InputError("gp: Options.mean is empty: name a registered mean");
  require_positive("initial_length_scale", initial_length_scale);
  require_positive("length_scale_lower", length_scale_lower);
  require_positive("length_scale_upper", length_scale_upper);
  require_order("length_scale_lower", length_scale_lower, "length_scale_upper", length_scale_upper);
  require_in("initial_length_scale", initial_length_scale, length_scale_lower, "length_scale_lower",
             length_scale_upper, "length_scale_upper");
  require_positive("initial_signal_variance", initial_signal_variance);
  require_positive("signal_variance_lower", signal_variance_lower);
  require_positive("signal_variance_upper", signal_variance_upper);
  require_order("signal_variance_lower", signal_variance_lower, "signal_variance_upper",
                signal_variance_upper);
  require_in("initial_signal_variance", initial_signal_variance, signal_variance_lower,
             "signal_variance_lower", signal_variance_upper, "signal_variance_upper");
  require_positive("initial_noise_variance", initial_noise_variance);
  require_positive("noise_variance_lower", noise_variance_lower);
  require_positive("noise_variance_upper", noise_variance_upper);
  require_order("noise_variance_lower", noise_variance_lower, "noise_variance_upper",
                noise_variance_upper);
  if (learn_noise)
    require_in("initial_noise_variance", initial_noise_variance, noise_variance_lower,
               "noise_variance_lower", noise_variance_upper, "noise_variance_upper");
  require_positive("mean_param_bound", mean_param_bound);
  if (restarts < 1)
    throw InputError("gp: Options.restarts = " + std::to_string(restarts) + ": must be >= 1");
  if (threads < 0)
    throw InputError("gp: Options.threads = " + std::to_string(threads) +
                     ": must be >= 0 (0 = all cores)");
  if (max_iterations < 1)
    throw InputError("gp: Options.max_iterations = " + std::to_string(max_iterations) +
                     ": must be >= 1");
  require_positive("gradient_tolerance", gradient_tolerance);
  if (!(objective_tolerance >= 0.0) || !std::isfinite(objective_tolerance))
    throw InputError("gp: Options.objective_tolerance = " + fmt(objective_tolerance) +
                     ": must be a finite number >= 0");
  if (!(restart_log_width >= 0.0) || !std::isfinite(restart_log_width))
    throw InputError("gp: Options.restart_log_width = " + fmt(restart_log_width) +
                     ": must be a finite number >= 0");
  require_positive("jitter_min_relative", jitter_min_relative);
  require_positive("jitter_max_relative", jitter_max_relative);
  require_order("jitter_min_relative", jitter_min_relative, "jitter_max_relative",
                jitter_max_relative);
}

KernelSettings Options::kernel_settings() const {
  KernelSettings s;
  s.length_scale = initial_length_scale;
  s.signal_variance = initial_signal_variance;
  s.length_scale_lower = length_scale_lower;
  s.length_scale_upper = length_scale_upper;
  s.signal_variance_lower = signal_variance_lower;
  s.signal_variance_upper = signal_variance_upper;
  return s;
}

const char* to_string(FitStatus status) {
  switch (status) {
    case FitStatus::kConverged:
      return "converged";
    case FitStatus::kIterationLimit:
      return "iteration_limit";
    case FitStatus::kSkipped:
      return "skipped";
    case FitStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

std::string FitResult::one_line() const {
  std::ostringstream s;
  s << "gp fit: " << to_string(status) << ", log marginal likelihood " << log_marginal_likelihood
    << ", restarts " << restarts_used << " used / " << restarts_failed << " failed, "
    << seconds * 1e3 << " ms";
  return s.str();
}

std::string FitResult::full_report() const {
  std::ostringstream s;
  s << "status:                  " << to_string(status) << "\n"
    << "message:                 " << message << "\n"
    << "log marginal likelihood: " << log_marginal_likelihood << "\n"
    << "restarts used:           " << restarts_used << "\n"
    << "restarts failed:         " << restarts_failed << "\n"
    << "best restart:            " << best_restart << "\n"
    << "iterations:              " << iterations << "\n"
    << "evaluations:             " << evaluations << "\n"
    << "seconds:                 " << seconds << "\n";
  return s.str();
}

double Prediction::std() const { return std::sqrt(std::max(variance, 0.0)); }

}  // namespace thor::gp
