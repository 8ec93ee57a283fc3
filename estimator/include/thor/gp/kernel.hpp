#pragma once
/// \file
/// Covariance functions (kernels) of thor's Gaussian Process.
///
/// A kernel is a small abstract class: per-pair evaluation, gradients with
/// respect to its log-hyperparameters and to its first input, plus bulk
/// operations (Gram matrix, cross covariances, gradient contraction) whose
/// default implementations loop over the per-pair functions. The built-in
/// stationary kernels (Matérn 1/2, 3/2, 5/2 and RBF, all with ARD length
/// scales and a signal variance) override the bulk operations with templated,
/// vectorised loops. Noise is not part of a kernel: the GaussianProcess owns it.
#include <Eigen/Core>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "thor/registry.hpp"

namespace thor::gp {

/// Settings handed to a kernel factory. Stationary kernels use all of them;
/// a user kernel may ignore what it does not need. Units are those of the
/// inputs the kernel sees (normalised to [0, 1] when the GP normalises inputs).
struct KernelSettings {
  /// Initial length scale of every input dimension.
  double length_scale = 0.5;
  /// Initial signal variance (on standardised targets when the GP standardises).
  double signal_variance = 1.0;
  /// Lower bound of every length scale.
  double length_scale_lower = 1e-3;
  /// Upper bound of every length scale.
  double length_scale_upper = 1e3;
  /// Lower bound of the signal variance.
  double signal_variance_lower = 1e-5;
  /// Upper bound of the signal variance.
  double signal_variance_upper = 1e5;

  /// Throws thor::InputError naming the field, its value and the rule.
  void validate() const;
};

/// A covariance function k(a, b) between points of input_dim() coordinates.
///
/// Contract for implementers: all hyperparameters live in log space and are
/// exchanged through log_params()/set_log_params(); evaluation functions are
/// const and thread-compatible (distinct objects may be used from distinct
/// threads; the GP clones a kernel per optimiser restart); no evaluation
/// function may allocate on the heap for input_dim() <= 16.
class Kernel {
 public:
  Kernel() = default;
  virtual ~Kernel() = default;
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  /// Registry name, stable because it is written to JSON (e.g. "matern52").
  virtual std::string name() const = 0;
  /// Number of coordinates of an input point.
  virtual int input_dim() const = 0;
  /// Number of hyperparameters; all are in log space.
  virtual int num_params() const = 0;
  /// Names of the hyperparameters in the order of log_params().
  virtual std::vector<std::string> param_names() const = 0;
  /// Current log-hyperparameters (num_params() values).
  virtual Eigen::VectorXd log_params() const = 0;
  /// Sets the log-hyperparameters; `p.size()` must equal num_params(). Called
  /// once per likelihood evaluation, so it must be cheap.
  virtual void set_log_params(const Eigen::Ref<const Eigen::VectorXd>& p) = 0;
  /// Lower bounds of the log-hyperparameters used by the optimiser.
  virtual Eigen::VectorXd log_lower_bounds() const = 0;
  /// Upper bounds of the log-hyperparameters used by the optimiser.
  virtual Eigen::VectorXd log_upper_bounds() const = 0;
  /// A deep copy with the same hyperparameters and bounds.
  virtual std::unique_ptr<Kernel> clone() const = 0;

  /// k(a, b); `a` and `b` point to input_dim() contiguous coordinates.
  virtual double eval(const double* a, const double* b) const = 0;
  /// Writes d k(a, b) / d log(theta_p) to grad[0 .. num_params()).
  virtual void gradient(const double* a, const double* b, double* grad) const = 0;
  /// Writes d k(x, b) / d x to grad[0 .. input_dim()). Where k is not
  /// differentiable (Matérn 1/2 at x == b) implementations return 0.
  virtual void input_gradient(const double* x, const double* b, double* grad) const = 0;

  // Bulk operations. Point sets are matrices with one point per row.

  /// k(x, x), the prior variance at x.
  virtual double diag(const double* x) const;
  /// K(i, j) = k(X.row(i), X.row(j)); K must be X.rows() x X.rows().
  virtual void gram(const Eigen::Ref<const Eigen::MatrixXd>& X,
                    Eigen::Ref<Eigen::MatrixXd> K) const;
  /// out[j] = k(x, X.row(j)) for every row of X; `out` holds X.rows() values.
  virtual void cross_point(const double* x, const Eigen::Ref<const Eigen::MatrixXd>& X,
                           double* out) const;
  /// out(i, j) = k(A.row(i), B.row(j)); out must be A.rows() x B.rows().
  virtual void cross(const Eigen::Ref<const Eigen::MatrixXd>& A,
                     const Eigen::Ref<const Eigen::MatrixXd>& B,
                     Eigen::Ref<Eigen::MatrixXd> out) const;
  /// The Gram matrix of X and its derivatives, for the likelihood gradient:
  /// K(i, j) = k(X.row(i), X.row(j)) and dK[p](i, j) = dK(i, j) / d log(theta_p).
  /// Only the lower triangles (diagonal included) are written; the strict upper
  /// triangles are left as they are. K and every dK[p] must be X.rows() square
  /// and dK must hold num_params() matrices.
  virtual void gram_lower_with_gradients(const Eigen::Ref<const Eigen::MatrixXd>& X,
                                         Eigen::Ref<Eigen::MatrixXd> K,
                                         std::vector<Eigen::MatrixXd>& dK) const;
  /// grad[0 .. input_dim()) = sum_j w[j] * d k(x, X.row(j)) / d x.
  virtual void input_gradient_sum(const double* x, const Eigen::Ref<const Eigen::MatrixXd>& X,
                                  const double* w, double* grad) const;
};

/// Built-in radial profiles g(r) of the stationary kernels
/// k(a, b) = s2 * g(r), r^2 = sum_d ((a_d - b_d) / l_d)^2 (their math lives in
/// kernel.cpp). With h = -g'(r) / r, d k / d log l_d = s2 * h * u_d^2.
/// Matérn nu = 1/2: g(r) = exp(-r).
struct Matern12Profile {
  static constexpr const char* kName = "matern12";
};
/// Matérn nu = 3/2: g(r) = (1 + sqrt(3) r) exp(-sqrt(3) r).
struct Matern32Profile {
  static constexpr const char* kName = "matern32";
};
/// Matérn nu = 5/2: g(r) = (1 + sqrt(5) r + 5 r^2 / 3) exp(-sqrt(5) r).
struct Matern52Profile {
  static constexpr const char* kName = "matern52";
};
/// Squared exponential: g(r) = exp(-r^2 / 2).
struct RbfProfile {
  static constexpr const char* kName = "rbf";
};

/// Stationary kernel k(a, b) = s2 * g(r) with ARD length scales l_d.
/// Log-hyperparameters in order: log l_0 .. log l_{d-1}, log s2.
/// The inner loops are instantiated once per profile in kernel.cpp.
template <class Profile>
class StationaryKernel final : public Kernel {
 public:
  /// A kernel over `input_dim` coordinates with the initial values and bounds of `settings`.
  explicit StationaryKernel(int input_dim, const KernelSettings& settings = {});

  std::string name() const override { return Profile::kName; }
  int input_dim() const override { return dim_; }
  int num_params() const override { return dim_ + 1; }
  std::vector<std::string> param_names() const override;
  Eigen::VectorXd log_params() const override;
  void set_log_params(const Eigen::Ref<const Eigen::VectorXd>& p) override;
  Eigen::VectorXd log_lower_bounds() const override;
  Eigen::VectorXd log_upper_bounds() const override;
  std::unique_ptr<Kernel> clone() const override;

  double eval(const double* a, const double* b) const override;
  void gradient(const double* a, const double* b, double* grad) const override;
  void input_gradient(const double* x, const double* b, double* grad) const override;

  double diag(const double* x) const override;
  void gram(const Eigen::Ref<const Eigen::MatrixXd>& X,
            Eigen::Ref<Eigen::MatrixXd> K) const override;
  void cross_point(const double* x, const Eigen::Ref<const Eigen::MatrixXd>& X,
                   double* out) const override;
  void cross(const Eigen::Ref<const Eigen::MatrixXd>& A, const Eigen::Ref<const Eigen::MatrixXd>& B,
             Eigen::Ref<Eigen::MatrixXd> out) const override;
  void gram_lower_with_gradients(const Eigen::Ref<const Eigen::MatrixXd>& X,
                                 Eigen::Ref<Eigen::MatrixXd> K,
                                 std::vector<Eigen::MatrixXd>& dK) const override;
  void input_gradient_sum(const double* x, const Eigen::Ref<const Eigen::MatrixXd>& X,
                          const double* w, double* grad) const override;

  /// Length scales l_d (not in log space).
  Eigen::VectorXd length_scales() const { return length_scale_; }
  /// Signal variance s2 (not in log space).
  double signal_variance() const { return signal_variance_; }

 private:
  int dim_;
  Eigen::VectorXd log_params_;  // kept as given, so log_params() round-trips exactly
  Eigen::VectorXd length_scale_;
  Eigen::VectorXd inv_length_scale_;
  double signal_variance_;
  KernelSettings settings_;
};

extern template class StationaryKernel<Matern12Profile>;
extern template class StationaryKernel<Matern32Profile>;
extern template class StationaryKernel<Matern52Profile>;
extern template class StationaryKernel<RbfProfile>;

/// Matérn nu = 1/2 (exponential) kernel with ARD.
using Matern12Kernel = StationaryKernel<Matern12Profile>;
/// Matérn nu = 3/2 kernel with ARD.
using Matern32Kernel = StationaryKernel<Matern32Profile>;
/// Matérn nu = 5/2 kernel with ARD (the default).
using Matern52Kernel = StationaryKernel<Matern52Profile>;
/// Squared-exponential kernel with ARD.
using RbfKernel = StationaryKernel<RbfProfile>;

/// Log-hyperparameters of a stationary kernel from natural values:
/// [log l_0 .. log l_{d-1}, log signal_variance].
Eigen::VectorXd stationary_log_params(const Eigen::Ref<const Eigen::VectorXd>& length_scales,
                                      double signal_variance);

/// Builds a kernel over `input_dim` coordinates.
using KernelFactory =
    std::function<std::unique_ptr<Kernel>(int input_dim, const KernelSettings& settings)>;

/// The kernels by name: "matern12", "matern32", "matern52" and "rbf" are
/// built in; add your own with kernel_registry().add(name, factory).
Registry<KernelFactory>& kernel_registry();
/// Builds a registered kernel; an InputError ("gp: unknown kernel ...")
/// lists the registered names when `name` is unknown.
std::unique_ptr<Kernel> make_kernel(const std::string& name, int input_dim,
                                    const KernelSettings& settings = {});

}  // namespace thor::gp
