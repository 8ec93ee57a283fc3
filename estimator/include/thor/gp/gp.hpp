#pragma once
/// \file
/// Gaussian Process regression: thor::gp::GaussianProcess.
///
/// The model maps d-dimensional inputs (channel counts) to a scalar target
/// (joules per training iteration). Inside the model inputs are scaled to
/// [0, 1] per dimension by the training range and targets are standardised
/// (mean and population standard deviation, as scikit-learn's
/// normalize_y=True); both can be switched off in Options. Kernel, mean and
/// noise hyperparameters are fitted by maximising the log marginal likelihood
/// with L-BFGS-B (analytic gradients, log space, several seeded restarts run
/// in parallel inside a tbb::task_arena).
///
/// Log marginal likelihood convention (same as scikit-learn): it is computed
/// on the normalised targets, log p(y_n | X_n, theta) =
/// -1/2 r^T K^-1 r - sum_i log L_ii - n/2 log(2 pi), r = y_n - m(X_n), without
/// the Jacobian of the target normalisation.
#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "thor/gp/cholesky.hpp"
#include "thor/gp/kernel.hpp"
#include "thor/gp/mean.hpp"

namespace thor::gp {

/// Settings of a GaussianProcess. Defaults suit 1-D/2-D channel-count inputs.
struct Options {
  /// Kernel registry name: "matern12", "matern32", "matern52", "rbf" or a registered one.
  std::string kernel = "matern52";
  /// Mean registry name: "zero", "constant", "linear" or a registered one.
  std::string mean = "zero";
  /// Scale every input dimension to [0, 1] by its training range (a dimension
  /// whose range is zero is only shifted). When false the kernel sees raw
  /// inputs, as in scikit-learn, and the length-scale fields are in raw units.
  bool normalize_inputs = true;
  /// Standardise targets (subtract the mean, divide by the population standard
  /// deviation; a zero deviation is replaced by 1), as scikit-learn's normalize_y.
  bool normalize_targets = true;
  /// Initial length scale of every dimension (first restart), kernel-input units.
  double initial_length_scale = 0.5;
  /// Lower bound of every length scale.
  double length_scale_lower = 1e-3;
  /// Upper bound of every length scale.
  double length_scale_upper = 1e3;
  /// Initial signal variance (first restart), normalised-target units.
  double initial_signal_variance = 1.0;
  /// Lower bound of the signal variance.
  double signal_variance_lower = 1e-5;
  /// Upper bound of the signal variance.
  double signal_variance_upper = 1e5;
  /// Initial noise variance (first restart; the fixed value when learn_noise is false).
  double initial_noise_variance = 1e-4;
  /// Lower bound of the noise variance on normalised targets (like scikit-learn's alpha).
  double noise_variance_lower = 1e-10;
  /// Upper bound of the noise variance.
  double noise_variance_upper = 10.0;
  /// Fit the noise variance; when false it stays at initial_noise_variance.
  bool learn_noise = true;
  /// Absolute bound on every mean-function parameter.
  double mean_param_bound = 100.0;
  /// Optimiser runs; the first starts at the initial values, the others at
  /// seeded random points (uniform in log space, see restart_log_width).
  int restarts = 8;
  /// Seed of the restart points; restart i uses a generator derived from (seed, i).
  std::uint64_t seed = 20250127;
  /// Concurrency of the tbb::task_arena running the restarts; 0 = all cores.
  int threads = 0;
  /// L-BFGS-B iteration limit per restart.
  int max_iterations = 200;
  /// Convergence when the projected gradient of -LML is below this (infinity norm).
  double gradient_tolerance = 1e-5;
  /// Convergence when -LML changes by less than this relative amount in one iteration.
  double objective_tolerance = 1e-10;
  /// Half-width, in log units, of the box around the initial values that random
  /// restarts are drawn from (clipped to the bounds); 6.9 is a factor of ~1000.
  double restart_log_width = 6.9;
  /// First jitter tried, relative to the mean diagonal, when Cholesky fails.
  double jitter_min_relative = 1e-10;
  /// Largest jitter tried, relative to the mean diagonal, before giving up.
  double jitter_max_relative = 1e-4;

  /// Throws thor::InputError naming the field, its value and the rule broken.
  void validate() const;
  /// The kernel-related fields as the KernelSettings a kernel factory takes.
  KernelSettings kernel_settings() const;
};

/// Hyperparameters for GaussianProcess::condition().
struct Hyperparameters {
  /// Kernel log-hyperparameters in the kernel's order (see stationary_log_params()).
  Eigen::VectorXd kernel_log_params;
  /// Noise variance on normalised targets, added to the Gram diagonal.
  double noise_variance = 1e-10;
  /// Mean-function parameters; empty keeps the mean's current ones.
  Eigen::VectorXd mean_params;
};

/// How a fit ended.
enum class FitStatus {
  kConverged,       ///< the best restart met a convergence test
  kIterationLimit,  ///< the best restart stopped at max_iterations
  kSkipped,         ///< fewer than 2 points or constant targets: initial values kept
  kFailed,          ///< every restart failed; the model keeps the initial values
};

/// Name of a FitStatus ("converged", "iteration_limit", "skipped", "failed").
const char* to_string(FitStatus status);

/// Result of GaussianProcess::fit().
struct FitResult {
  /// How the fit ended.
  FitStatus status = FitStatus::kFailed;
  /// Human-readable detail, starting with "gp: ".
  std::string message;
  /// Log marginal likelihood of the kept hyperparameters (normalised targets).
  double log_marginal_likelihood = 0.0;
  /// Restarts that produced a finite likelihood.
  int restarts_used = 0;
  /// Restarts that failed (numerical errors, no finite likelihood).
  int restarts_failed = 0;
  /// Index of the restart whose hyperparameters were kept (-1 when none).
  int best_restart = -1;
  /// L-BFGS-B iterations over all restarts.
  int iterations = 0;
  /// Likelihood evaluations over all restarts.
  int evaluations = 0;
  /// Wall time of the fit in seconds.
  double seconds = 0.0;

  /// True unless the status is kFailed.
  bool ok() const { return status != FitStatus::kFailed; }
  /// One line: status, LML, restarts, time.
  std::string one_line() const;
  /// Several lines with every field.
  std::string full_report() const;
};

/// Predictive distribution at one point, in target units.
struct Prediction {
  /// Predictive mean.
  double mean = 0.0;
  /// Predictive variance (latent, or with the noise variance when asked for).
  double variance = 0.0;
  /// Predictive standard deviation.
  double std() const;
};

/// Gaussian Process regressor. Copyable (deep copy), movable.
///
/// Typical use: construct with Options, fit(X, y), then predict(). condition()
/// sets hyperparameters without optimising. All const member functions are
/// safe to call concurrently.
class GaussianProcess {
 public:
  /// A GP whose kernel and mean come from the registries named in `options`.
  /// Throws thor::InputError when the options are invalid.
  explicit GaussianProcess(Options options = {});
  /// A GP with a user kernel and mean (prototypes: their current parameters
  /// are the first restart's initial values, their input_dim() must match the
  /// data). `mean` may be null (zero mean). options.kernel/mean are replaced by
  /// the objects' names.
  GaussianProcess(std::unique_ptr<Kernel> kernel, std::unique_ptr<MeanFunction> mean,
                  Options options = {});
  GaussianProcess(const GaussianProcess& other);
  GaussianProcess& operator=(const GaussianProcess& other);
  GaussianProcess(GaussianProcess&&) noexcept;
  GaussianProcess& operator=(GaussianProcess&&) noexcept;
  ~GaussianProcess();

  /// Stores the data (one point per row of X), fits the hyperparameters and
  /// conditions the model. Throws thor::InputError for bad data (sizes, NaN
  /// or infinite values, no points) and NumericalError when even the initial
  /// hyperparameters give an indefinite covariance.
  FitResult fit(const Eigen::Ref<const Eigen::MatrixXd>& X,
                const Eigen::Ref<const Eigen::VectorXd>& y);
  /// As fit(), with a known noise variance per point (target units, >= 0):
  /// a heteroscedastic diagonal added to the Gram matrix on top of the learned
  /// noise variance (which then covers only what the known part does not).
  FitResult fit(const Eigen::Ref<const Eigen::MatrixXd>& X,
                const Eigen::Ref<const Eigen::VectorXd>& y,
                const Eigen::Ref<const Eigen::VectorXd>& point_variance);

  /// Stores the data and conditions on the given hyperparameters without optimising.
  void condition(const Eigen::Ref<const Eigen::MatrixXd>& X,
                 const Eigen::Ref<const Eigen::VectorXd>& y,
                 const Hyperparameters& hyperparameters);

  /// True once fit() or condition() succeeded (or after from_json()).
  bool is_conditioned() const { return conditioned_; }

  /// Prediction at one point (x.size() == input_dim()), in target units.
  /// `with_noise` adds the noise variance (scikit-learn's WhiteKernel
  /// behaviour). Does not allocate for fewer than 512 training points.
  Prediction predict(const Eigen::Ref<const Eigen::VectorXd>& x, bool with_noise = false) const;
  /// Predictive mean at one point.
  double predict_mean(const Eigen::Ref<const Eigen::VectorXd>& x) const;
  /// Predictive means at every row of X; when `variance` is not null it
  /// receives the predictive variances (with the noise variance if `with_noise`).
  Eigen::VectorXd predict_batch(const Eigen::Ref<const Eigen::MatrixXd>& X,
                                Eigen::VectorXd* variance = nullptr, bool with_noise = false) const;
  /// Gradient of the predictive mean with respect to the (raw) input x.
  Eigen::VectorXd mean_gradient(const Eigen::Ref<const Eigen::VectorXd>& x) const;

  /// Log marginal likelihood at the current hyperparameters (normalised targets).
  double log_marginal_likelihood() const { return lml_; }
  /// Log marginal likelihood at `theta` (layout of theta()) on the stored
  /// data; writes its gradient with respect to theta when `grad` is not null.
  double log_marginal_likelihood(const Eigen::Ref<const Eigen::VectorXd>& theta,
                                 Eigen::VectorXd* grad) const;
  /// Current optimisation vector: kernel log-params, log noise variance (when
  /// learn_noise), mean params.
  Eigen::VectorXd theta() const;
  /// Names of the entries of theta().
  std::vector<std::string> theta_names() const;
  /// Current hyperparameters.
  Hyperparameters hyperparameters() const;

  /// The fitted kernel (requires is_conditioned()).
  const Kernel& kernel() const;
  /// The fitted mean function (requires is_conditioned()).
  const MeanFunction& mean() const;
  /// Noise variance on normalised targets.
  double noise_variance() const { return noise_variance_; }
  /// Absolute jitter added to the diagonal on top of the noise (usually 0).
  double jitter() const { return jitter_; }
  /// Options the model was built with.
  const Options& options() const { return options_; }
  /// Training inputs, one point per row, raw units.
  const Eigen::MatrixXd& inputs() const { return X_; }
  /// Training targets, raw units.
  const Eigen::VectorXd& targets() const { return y_; }
  /// Known per-point noise variances (target units); empty when none.
  const Eigen::VectorXd& point_variance() const { return pv_; }
  /// Number of training points.
  int num_points() const { return static_cast<int>(y_.size()); }
  /// Number of input coordinates.
  int input_dim() const { return static_cast<int>(X_.cols()); }
  /// Mean subtracted from the targets (0 when not normalising).
  double target_mean() const { return y_mean_; }
  /// Scale dividing the targets (1 when not normalising).
  double target_std() const { return y_std_; }
  /// Per-dimension offset subtracted from inputs before scaling.
  const Eigen::VectorXd& input_offset() const { return x_lo_; }
  /// Per-dimension range dividing inputs.
  const Eigen::VectorXd& input_range() const { return x_range_; }
  /// One line: kernel, hyperparameters, points, LML.
  std::string summary() const;

  /// The fitted model as JSON: kernel name and log-hyperparameters, noise,
  /// mean, normalisation, jitter, options and training data. Doubles are
  /// written so that they read back bit for bit.
  nlohmann::json to_json() const;
  /// A model from to_json() output; predictions are identical to the
  /// original's. Throws thor::InputError ("gp: json: ...") naming a missing or
  /// bad key.
  static GaussianProcess from_json(const nlohmann::json& j);

 private:
  void set_data(const Eigen::Ref<const Eigen::MatrixXd>& X,
                const Eigen::Ref<const Eigen::VectorXd>& y);
  void set_point_variance(const Eigen::Ref<const Eigen::VectorXd>& pv);
  FitResult fit_stored();
  void make_components();
  void apply_theta(const Eigen::Ref<const Eigen::VectorXd>& theta);
  void factorize(bool escalate);
  void require_conditioned(const char* where) const;

  Options options_;
  std::unique_ptr<Kernel> kernel_proto_;
  std::unique_ptr<MeanFunction> mean_proto_;
  std::unique_ptr<Kernel> kernel_;
  std::unique_ptr<MeanFunction> mean_;
  double noise_variance_ = 1e-4;
  double jitter_ = 0.0;
  double lml_ = 0.0;
  bool conditioned_ = false;

  Eigen::MatrixXd X_;        // raw inputs, n x d
  Eigen::VectorXd y_;        // raw targets
  Eigen::MatrixXd Xn_;       // normalised inputs
  Eigen::VectorXd yn_;       // normalised targets
  Eigen::VectorXd pv_;       // known per-point noise variance, target units (empty: none)
  Eigen::VectorXd pvn_;      // the same on normalised targets
  Eigen::VectorXd x_lo_;     // input offset per dimension
  Eigen::VectorXd x_range_;  // input range per dimension
  Eigen::VectorXd x_inv_range_;
  double y_mean_ = 0.0;
  double y_std_ = 1.0;
  Eigen::MatrixXd L_;      // Cholesky factor of K + (noise + jitter) I
  Eigen::MatrixXd Linv_;   // L^-1 (lower), for fast variances
  Eigen::VectorXd alpha_;  // K^-1 (y_n - m(X_n))
};

}  // namespace thor::gp
