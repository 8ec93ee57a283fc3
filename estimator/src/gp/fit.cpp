// GaussianProcess::fit_stored: hyperparameters by maximum marginal
// likelihood, L-BFGS-B from several restarts in parallel (oneTBB).
#include <LBFGSB.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>

#include "lml.hpp"
#include "thor/error.hpp"
#include "thor/gp/gp.hpp"
#include "thor/parallel.hpp"

namespace thor::gp {

namespace {

// Deterministic per-restart random numbers, the same on every platform.
class SplitMix64 {
 public:
  SplitMix64(std::uint64_t seed, std::uint64_t stream)
      : state_(seed ^ (0x9E3779B97F4A7C15ull * (stream + 1))) {
    next();
  }
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

enum class RestartStatus { kConverged, kIterationLimit, kLineSearchStop, kFailed };

struct RestartOutcome {
  RestartStatus status = RestartStatus::kFailed;
  Eigen::VectorXd theta;
  double lml = -std::numeric_limits<double>::infinity();
  int iterations = 0;
  int evaluations = 0;
  std::string error;
};

// -LML for LBFGSpp; remembers the best point evaluated so that a line-search
// failure still leaves a usable result.
struct NegativeLml {
  detail::LmlEvaluator* evaluator;
  RestartOutcome* outcome;
  Eigen::VectorXd grad;
  double operator()(const Eigen::VectorXd& theta, Eigen::VectorXd& g) {
    const double lml = evaluator->evaluate(theta, &grad);
    ++outcome->evaluations;
    if (!grad.allFinite())
      throw NumericalError("gp: likelihood gradient is not finite at these hyperparameters");
    g = -grad;
    if (lml > outcome->lml) {
      outcome->lml = lml;
      outcome->theta = theta;
    }
    return -lml;
  }
};

// The optimiser's start point and box in log space: kernel parameters,
// then the noise variance (when learnt), then the mean's parameters.
struct Box {
  Eigen::VectorXd theta0, lb, ub;
  int free_scale = 0;  // leading parameters restarted over restart_log_width
};

Box hyper_box(const Kernel& kernel, const MeanFunction& mean, const Options& o) {
  const int pk = kernel.num_params();
  const int pm = mean.num_params();
  const int pn = o.learn_noise ? 1 : 0;
  const int p = pk + pn + pm;
  Box b{Eigen::VectorXd(p), Eigen::VectorXd(p), Eigen::VectorXd(p), pk + pn};
  b.theta0.head(pk) = kernel.log_params();
  b.lb.head(pk) = kernel.log_lower_bounds();
  b.ub.head(pk) = kernel.log_upper_bounds();
  if (pn) {
    b.theta0[pk] = std::log(o.initial_noise_variance);
    b.lb[pk] = std::log(o.noise_variance_lower);
    b.ub[pk] = std::log(o.noise_variance_upper);
  }
  if (pm > 0) {
    b.theta0.tail(pm) = mean.params();
    b.lb.tail(pm).setConstant(-mean.param_bound());
    b.ub.tail(pm).setConstant(mean.param_bound());
  }
  b.theta0 = b.theta0.cwiseMax(b.lb).cwiseMin(b.ub);
  return b;
}

// Restart points: the first at theta0, the others uniform in a box around it.
std::vector<Eigen::VectorXd> restart_points(const Box& b, const Options& o) {
  std::vector<Eigen::VectorXd> starts(static_cast<std::size_t>(o.restarts));
  for (int r = 0; r < o.restarts; ++r) {
    Eigen::VectorXd s = b.theta0;
    if (r > 0) {
      SplitMix64 rng(o.seed, static_cast<std::uint64_t>(r));
      for (int i = 0; i < s.size(); ++i) {
        const double width = i < b.free_scale ? o.restart_log_width : 1.0;
        const double lo = std::max(b.lb[i], b.theta0[i] - width);
        const double hi = std::min(b.ub[i], b.theta0[i] + width);
        s[i] = lo + (hi - lo) * rng.uniform();
      }
    }
    starts[static_cast<std::size_t>(r)] = s;
  }
  return starts;
}

LBFGSpp::LBFGSBParam<double> solver_settings(const Options& o) {
  LBFGSpp::LBFGSBParam<double> param;
  param.m = 8;
  param.epsilon = o.gradient_tolerance;
  param.epsilon_rel = 0.0;
  param.past = 1;
  param.delta = o.objective_tolerance;
  param.max_iterations = o.max_iterations;
  param.max_linesearch = 40;
  return param;
}

// Totals over the restarts into `result`; the index of the best usable
// restart (highest likelihood), or -1 when every one failed.
int best_restart(const std::vector<RestartOutcome>& outcomes, FitResult& result) {
  int best = -1;
  for (size_t r = 0; r < outcomes.size(); ++r) {
    const RestartOutcome& o = outcomes[r];
    result.iterations += o.iterations;
    result.evaluations += o.evaluations;
    if (o.status == RestartStatus::kFailed) {
      ++result.restarts_failed;
      continue;
    }
    ++result.restarts_used;
    if (best < 0 || o.lml > outcomes[static_cast<size_t>(best)].lml) best = static_cast<int>(r);
  }
  result.best_restart = best;
  return best;
}

}  // namespace

FitResult GaussianProcess::fit_stored() {
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  make_components();
  const Box box = hyper_box(*kernel_, *mean_, options_);
  FitResult result;
  jitter_ = 0.0;
  if (y_.size() < 2 || y_.maxCoeff() == y_.minCoeff()) {
    apply_theta(box.theta0);
    factorize(true);
    result.status = FitStatus::kSkipped;
    result.message = y_.size() < 2
                         ? "gp: fit: a single point; hyperparameters left at their initial values"
                         : "gp: fit: constant targets; hyperparameters left at their initial "
                           "values";
    result.log_marginal_likelihood = lml_;
    result.seconds = elapsed();
    return result;
  }
  const std::vector<Eigen::VectorXd> starts = restart_points(box, options_);
  const LBFGSpp::LBFGSBParam<double> param = solver_settings(options_);
  std::vector<RestartOutcome> outcomes(starts.size());
  const Kernel& kernel = *kernel_;
  const MeanFunction& mean = *mean_;
  thor::parallel_for_index(options_.threads, starts.size(), [&](size_t r) {
    RestartOutcome& out = outcomes[r];
    try {
      detail::LmlEvaluator eval(kernel, mean, Xn_, yn_, options_.learn_noise,
                                options_.initial_noise_variance, options_.jitter_min_relative,
                                options_.jitter_max_relative, pvn_.size() ? &pvn_ : nullptr);
      NegativeLml f{&eval, &out, Eigen::VectorXd(box.theta0.size())};
      LBFGSpp::LBFGSBSolver<double> solver(param);
      Eigen::VectorXd x = starts[r];
      double fx = 0.0;
      try {
        out.iterations = solver.minimize(f, x, fx, box.lb, box.ub);
        out.status = out.iterations >= options_.max_iterations ? RestartStatus::kIterationLimit
                                                               : RestartStatus::kConverged;
      } catch (const NumericalError&) {
        throw;
      } catch (const std::exception& e) {
        // LBFGSpp throws when the line search cannot make progress, which
        // happens close to an optimum; the best point seen is kept.
        out.status = RestartStatus::kLineSearchStop;
        out.error = e.what();
      }
    } catch (const std::exception& e) {
      out.status = RestartStatus::kFailed;
      out.error = e.what();
    }
    if (!std::isfinite(out.lml)) out.status = RestartStatus::kFailed;
  });
  const int best = best_restart(outcomes, result);
  if (best < 0) {
    apply_theta(box.theta0);
    factorize(true);
    result.status = FitStatus::kFailed;
    result.message = "gp: fit: every restart failed (first error: " + outcomes[0].error +
                     "); hyperparameters left at their initial values";
  } else {
    const RestartOutcome& b = outcomes[static_cast<size_t>(best)];
    apply_theta(b.theta);
    factorize(true);
    const bool at_limit = b.status == RestartStatus::kIterationLimit;
    result.status = at_limit ? FitStatus::kIterationLimit : FitStatus::kConverged;
    result.message =
        "gp: fit: best restart " + std::to_string(best) +
        (at_limit ? " stopped at " + std::to_string(options_.max_iterations) + " iterations"
         : b.status == RestartStatus::kLineSearchStop
             ? std::string(" stopped where the line search could not improve")
             : std::string(" converged"));
  }
  result.log_marginal_likelihood = lml_;
  result.seconds = elapsed();
  return result;
}

}  // namespace thor::gp
