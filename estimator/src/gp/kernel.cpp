#include "thor/gp/kernel.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "small_buffer.hpp"
#include "thor/error.hpp"
#include "thor/format.hpp"
#include "vmath.hpp"

namespace thor::gp {

namespace {

using detail::fast_exp;
using detail::SmallBuffer;
constexpr std::size_t kStackDim = 16;

// Copies row i of X into a contiguous buffer.
inline void copy_row(const Eigen::Ref<const Eigen::MatrixXd>& X, Eigen::Index i, double* out) {
  for (Eigen::Index d = 0; d < X.cols(); ++d) out[d] = X(i, d);
}

// The math of each radial profile g(r), given r^2. Branch-free so that the
// loops below vectorise:
//   value(r2)          -> g
//   value_dlog(r2,g,h) -> g and h = -g'(r) / r  (so dk/dlog l_d = s2 h u_d^2)
template <class Profile>
struct ProfileMath;

template <>
struct ProfileMath<Matern12Profile> {
  static double value(double r2) { return fast_exp(-std::sqrt(r2)); }
  static void value_dlog(double r2, double& g, double& h) {
    const double r = std::sqrt(r2);
    g = fast_exp(-r);
    // u_d = 0 when r = 0, so the product h u_d^2 is 0 there.
    h = r > 0.0 ? g / r : 0.0;
  }
};

template <>
struct ProfileMath<Matern32Profile> {
  static constexpr double kS3 = 1.7320508075688772;
  static double value(double r2) {
    const double r = std::sqrt(r2);
    return (1.0 + kS3 * r) * fast_exp(-kS3 * r);
  }
  static void value_dlog(double r2, double& g, double& h) {
    const double r = std::sqrt(r2);
    const double e = fast_exp(-kS3 * r);
    g = (1.0 + kS3 * r) * e;
    h = 3.0 * e;
  }
};

template <>
struct ProfileMath<Matern52Profile> {
  static constexpr double kS5 = 2.23606797749979;
  static double value(double r2) {
    const double r = std::sqrt(r2);
    return (1.0 + kS5 * r + (5.0 / 3.0) * r2) * fast_exp(-kS5 * r);
  }
  static void value_dlog(double r2, double& g, double& h) {
    const double r = std::sqrt(r2);
    const double e = fast_exp(-kS5 * r);
    g = (1.0 + kS5 * r + (5.0 / 3.0) * r2) * e;
    h = (5.0 / 3.0) * (1.0 + kS5 * r) * e;
  }
};

template <>
struct ProfileMath<RbfProfile> {
  static double value(double r2) { return fast_exp(-0.5 * r2); }
  static void value_dlog(double r2, double& g, double& h) {
    g = fast_exp(-0.5 * r2);
    h = g;
  }
};

// out[i] = s2 g(r_i), r_i^2 = sum_d ((X(i, d) - x_d) il_d)^2 for n rows of a
// column-major X with leading dimension ld.
template <class Profile>
THOR_GP_HOT_LOOP void cross_point_loop(const double* __restrict X, Eigen::Index ld, Eigen::Index n,
                                       int dim, const double* __restrict x,
                                       const double* __restrict il, double s2,
                                       double* __restrict out) {
  {
    const double x0 = x[0], l0 = il[0];
    for (Eigen::Index i = 0; i < n; ++i) {
      const double u = (X[i] - x0) * l0;
      out[i] = u * u;
    }
  }
  for (int d = 1; d < dim; ++d) {
    const double* __restrict c = X + d * ld;
    const double xd = x[d], ld_inv = il[d];
    for (Eigen::Index i = 0; i < n; ++i) {
      const double u = (c[i] - xd) * ld_inv;
      out[i] += u * u;
    }
  }
  for (Eigen::Index i = 0; i < n; ++i) out[i] = s2 * ProfileMath<Profile>::value(out[i]);
}

// Column j of the lower triangles of K and of dK/dlog theta: rows j+1 .. n-1
// vectorised, then the diagonal. dk[0 .. dim) are the length-scale derivatives,
// dk[dim] the signal-variance one (= K).
template <class Profile>
THOR_GP_HOT_LOOP void gram_gradient_column(const double* __restrict X, Eigen::Index ld,
                                           Eigen::Index n, int dim, Eigen::Index j,
                                           const double* __restrict il, double s2,
                                           double* __restrict kcol, double* const* dk) {
  const Eigen::Index m = n - j - 1;
  double* __restrict r2 = kcol + j + 1;
  double* __restrict hs = dk[dim] + j + 1;
  for (int d = 0; d < dim; ++d) {
    const double* __restrict c = X + d * ld + j + 1;
    const double xj = X[d * ld + j], l = il[d];
    double* __restrict u2 = dk[d] + j + 1;
    if (d == 0) {
      for (Eigen::Index i = 0; i < m; ++i) {
        const double u = (c[i] - xj) * l;
        u2[i] = u * u;
        r2[i] = u * u;
      }
    } else {
      for (Eigen::Index i = 0; i < m; ++i) {
        const double u = (c[i] - xj) * l;
        u2[i] = u * u;
        r2[i] += u * u;
      }
    }
  }
  for (Eigen::Index i = 0; i < m; ++i) {
    double g, h;
    ProfileMath<Profile>::value_dlog(r2[i], g, h);
    r2[i] = s2 * g;
    hs[i] = s2 * h;
  }
  for (int d = 0; d < dim; ++d) {
    double* __restrict u2 = dk[d] + j + 1;
    for (Eigen::Index i = 0; i < m; ++i) u2[i] *= hs[i];
  }
  for (Eigen::Index i = 0; i < m; ++i) hs[i] = r2[i];
  kcol[j] = s2;
  for (int d = 0; d < dim; ++d) dk[d][j] = 0.0;
  dk[dim][j] = s2;
}

}  // namespace

void KernelSettings::validate() const {
  auto positive = [](const char* field, double v) {
    if (!(v > 0.0) || !std::isfinite(v))
      throw InputError(std::string("gp: KernelSettings.") + field + " = " + number(v) +
                       ": must be a positive finite number");
  };
  positive("length_scale", length_scale);
  positive("signal_variance", signal_variance);
  positive("length_scale_lower", length_scale_lower);
  positive("length_scale_upper", length_scale_upper);
  positive("signal_variance_lower", signal_variance_lower);
  positive("signal_variance_upper", signal_variance_upper);
  if (length_scale_lower > length_scale_upper)
    throw InputError("gp: KernelSettings.length_scale_lower = " + number(length_scale_lower) +
                     ": must not exceed length_scale_upper = " + number(length_scale_upper));
  if (signal_variance_lower > signal_variance_upper)
    throw InputError("gp: KernelSettings.signal_variance_lower = " + number(signal_variance_lower) +
                     ": must not exceed signal_variance_upper = " + number(signal_variance_upper));
}

// ---------------------------------------------------------------------------
// Kernel: generic bulk operations built from the per-pair functions.

double Kernel::diag(const double* x) const { return eval(x, x); }

void Kernel::gram(const Eigen::Ref<const Eigen::MatrixXd>& X, Eigen::Ref<Eigen::MatrixXd> K) const {
  const Eigen::Index n = X.rows();
  const std::size_t d = static_cast<std::size_t>(X.cols());
  SmallBuffer<kStackDim> a(d), b(d);
  for (Eigen::Index j = 0; j < n; ++j) {
    copy_row(X, j, b.data());
    for (Eigen::Index i = j; i < n; ++i) {
      copy_row(X, i, a.data());
      K(i, j) = K(j, i) = eval(a.data(), b.data());
    }
  }
}

void Kernel::cross_point(const double* x, const Eigen::Ref<const Eigen::MatrixXd>& X,
                         double* out) const {
  SmallBuffer<kStackDim> b(static_cast<std::size_t>(X.cols()));
  for (Eigen::Index j = 0; j < X.rows(); ++j) {
    copy_row(X, j, b.data());
    out[j] = eval(x, b.data());
  }
}

void Kernel::cross(const Eigen::Ref<const Eigen::MatrixXd>& A,
                   const Eigen::Ref<const Eigen::MatrixXd>& B,
                   Eigen::Ref<Eigen::MatrixXd> out) const {
  SmallBuffer<kStackDim> b(static_cast<std::size_t>(B.cols()));
  for (Eigen::Index j = 0; j < B.rows(); ++j) {
    copy_row(B, j, b.data());
    cross_point(b.data(), A, out.col(j).data());  // k is symmetric
  }
}

void Kernel::gram_lower_with_gradients(const Eigen::Ref<const Eigen::MatrixXd>& X,
                                       Eigen::Ref<Eigen::MatrixXd> K,
                                       std::vector<Eigen::MatrixXd>& dK) const {
  const Eigen::Index n = X.rows();
  const std::size_t d = static_cast<std::size_t>(X.cols());
  const std::size_t p = static_cast<std::size_t>(num_params());
  SmallBuffer<kStackDim> a(d), b(d), g(p);
  for (Eigen::Index j = 0; j < n; ++j) {
    copy_row(X, j, b.data());
    for (Eigen::Index i = j; i < n; ++i) {
      copy_row(X, i, a.data());
      K(i, j) = eval(a.data(), b.data());
      gradient(a.data(), b.data(), g.data());
      for (std::size_t k = 0; k < p; ++k) dK[k](i, j) = g[k];
    }
  }
}

void Kernel::input_gradient_sum(const double* x, const Eigen::Ref<const Eigen::MatrixXd>& X,
                                const double* w, double* grad) const {
  const std::size_t d = static_cast<std::size_t>(X.cols());
  SmallBuffer<kStackDim> b(d), g(d);
  for (std::size_t k = 0; k < d; ++k) grad[k] = 0.0;
  for (Eigen::Index j = 0; j < X.rows(); ++j) {
    copy_row(X, j, b.data());
    input_gradient(x, b.data(), g.data());
    for (std::size_t k = 0; k < d; ++k) grad[k] += w[j] * g[k];
  }
}

// ---------------------------------------------------------------------------
// StationaryKernel<Profile>

template <class Profile>
StationaryKernel<Profile>::StationaryKernel(int input_dim, const KernelSettings& settings)
    : dim_(input_dim), settings_(settings) {
  if (input_dim < 1)
    throw InputError("gp: kernel " + std::string(Profile::kName) +
                     ": input_dim = " + std::to_string(input_dim) + ": must be >= 1");
  settings.validate();
  length_scale_ = Eigen::VectorXd::Constant(dim_, settings.length_scale);
  inv_length_scale_ = length_scale_.cwiseInverse();
  signal_variance_ = settings.signal_variance;
  log_params_.resize(dim_ + 1);
  log_params_.head(dim_).setConstant(std::log(settings.length_scale));
  log_params_[dim_] = std::log(settings.signal_variance);
}

template <class Profile>
std::vector<std::string> StationaryKernel<Profile>::param_names() const {
  std::vector<std::string> names;
  for (int d = 0; d < dim_; ++d) names.push_back("log_length_scale[" + std::to_string(d) + "]");
  names.push_back("log_signal_variance");
  return names;
}

template <class Profile>
Eigen::VectorXd StationaryKernel<Profile>::log_params() const {
  return log_params_;
}

template <class Profile>
void StationaryKernel<Profile>::set_log_params(const Eigen::Ref<const Eigen::VectorXd>& p) {
  if (p.size() != dim_ + 1)
    throw InputError("gp: kernel " + name() + ": expected " + std::to_string(dim_ + 1) +
                     " log-parameters, got " + std::to_string(p.size()));
  log_params_ = p;
  for (int d = 0; d < dim_; ++d) {
    length_scale_[d] = std::exp(p[d]);
    inv_length_scale_[d] = 1.0 / length_scale_[d];
  }
  signal_variance_ = std::exp(p[dim_]);
}

template <class Profile>
Eigen::VectorXd StationaryKernel<Profile>::log_lower_bounds() const {
  Eigen::VectorXd b(dim_ + 1);
  b.head(dim_).setConstant(std::log(settings_.length_scale_lower));
  b[dim_] = std::log(settings_.signal_variance_lower);
  return b;
}

template <class Profile>
Eigen::VectorXd StationaryKernel<Profile>::log_upper_bounds() const {
  Eigen::VectorXd b(dim_ + 1);
  b.head(dim_).setConstant(std::log(settings_.length_scale_upper));
  b[dim_] = std::log(settings_.signal_variance_upper);
  return b;
}

template <class Profile>
std::unique_ptr<Kernel> StationaryKernel<Profile>::clone() const {
  auto k = std::make_unique<StationaryKernel<Profile>>(dim_, settings_);
  k->log_params_ = log_params_;
  k->length_scale_ = length_scale_;
  k->inv_length_scale_ = inv_length_scale_;
  k->signal_variance_ = signal_variance_;
  return k;
}

template <class Profile>
double StationaryKernel<Profile>::eval(const double* a, const double* b) const {
  double r2 = 0.0;
  for (int d = 0; d < dim_; ++d) {
    const double u = (a[d] - b[d]) * inv_length_scale_[d];
    r2 += u * u;
  }
  return signal_variance_ * ProfileMath<Profile>::value(r2);
}

template <class Profile>
void StationaryKernel<Profile>::gradient(const double* a, const double* b, double* grad) const {
  double r2 = 0.0;
  for (int d = 0; d < dim_; ++d) {
    const double u = (a[d] - b[d]) * inv_length_scale_[d];
    grad[d] = u * u;
    r2 += u * u;
  }
  double g, h;
  ProfileMath<Profile>::value_dlog(r2, g, h);
  for (int d = 0; d < dim_; ++d) grad[d] *= signal_variance_ * h;
  grad[dim_] = signal_variance_ * g;
}

template <class Profile>
void StationaryKernel<Profile>::input_gradient(const double* x, const double* b,
                                               double* grad) const {
  double r2 = 0.0;
  for (int d = 0; d < dim_; ++d) {
    const double u = (x[d] - b[d]) * inv_length_scale_[d];
    r2 += u * u;
  }
  double g, h;
  ProfileMath<Profile>::value_dlog(r2, g, h);
  for (int d = 0; d < dim_; ++d)
    grad[d] = -signal_variance_ * h * (x[d] - b[d]) * inv_length_scale_[d] * inv_length_scale_[d];
}

template <class Profile>
double StationaryKernel<Profile>::diag(const double*) const {
  return signal_variance_;
}

template <class Profile>
void StationaryKernel<Profile>::cross_point(const double* x,
                                            const Eigen::Ref<const Eigen::MatrixXd>& X,
                                            double* out) const {
  if (X.rows() == 0) return;
  cross_point_loop<Profile>(X.data(), X.outerStride(), X.rows(), dim_, x, inv_length_scale_.data(),
                            signal_variance_, out);
}

template <class Profile>
void StationaryKernel<Profile>::gram(const Eigen::Ref<const Eigen::MatrixXd>& X,
                                     Eigen::Ref<Eigen::MatrixXd> K) const {
  const Eigen::Index n = X.rows();
  SmallBuffer<kStackDim> x(static_cast<std::size_t>(dim_));
  for (Eigen::Index j = 0; j < n; ++j) {
    K(j, j) = signal_variance_;
    const Eigen::Index m = n - j - 1;
    if (m == 0) break;
    copy_row(X, j, x.data());
    // Lower part of column j, vectorised over the rows below the diagonal.
    cross_point_loop<Profile>(X.data() + j + 1, X.outerStride(), m, dim_, x.data(),
                              inv_length_scale_.data(), signal_variance_, K.col(j).data() + j + 1);
  }
  K.template triangularView<Eigen::StrictlyUpper>() = K.transpose();
}

template <class Profile>
void StationaryKernel<Profile>::cross(const Eigen::Ref<const Eigen::MatrixXd>& A,
                                      const Eigen::Ref<const Eigen::MatrixXd>& B,
                                      Eigen::Ref<Eigen::MatrixXd> out) const {
  SmallBuffer<kStackDim> b(static_cast<std::size_t>(dim_));
  for (Eigen::Index j = 0; j < B.rows(); ++j) {
    copy_row(B, j, b.data());
    cross_point(b.data(), A, out.col(j).data());
  }
}

template <class Profile>
void StationaryKernel<Profile>::gram_lower_with_gradients(
    const Eigen::Ref<const Eigen::MatrixXd>& X, Eigen::Ref<Eigen::MatrixXd> K,
    std::vector<Eigen::MatrixXd>& dK) const {
  const Eigen::Index n = X.rows();
  double* cols[kStackDim + 1];
  std::vector<double*> heap;
  double** dk = cols;
  if (static_cast<std::size_t>(dim_) + 1 > kStackDim + 1) {
    heap.resize(static_cast<std::size_t>(dim_) + 1);
    dk = heap.data();
  }
  for (Eigen::Index j = 0; j < n; ++j) {
    for (int p = 0; p <= dim_; ++p) dk[p] = dK[static_cast<std::size_t>(p)].col(j).data();
    gram_gradient_column<Profile>(X.data(), X.outerStride(), n, dim_, j, inv_length_scale_.data(),
                                  signal_variance_, K.col(j).data(), dk);
  }
}

template <class Profile>
void StationaryKernel<Profile>::input_gradient_sum(const double* x,
                                                   const Eigen::Ref<const Eigen::MatrixXd>& X,
                                                   const double* w, double* grad) const {
  for (int d = 0; d < dim_; ++d) grad[d] = 0.0;
  for (Eigen::Index j = 0; j < X.rows(); ++j) {
    double r2 = 0.0;
    for (int d = 0; d < dim_; ++d) {
      const double u = (x[d] - X(j, d)) * inv_length_scale_[d];
      r2 += u * u;
    }
    double g, h;
    ProfileMath<Profile>::value_dlog(r2, g, h);
    const double c = -signal_variance_ * h * w[j];
    for (int d = 0; d < dim_; ++d)
      grad[d] += c * (x[d] - X(j, d)) * inv_length_scale_[d] * inv_length_scale_[d];
  }
}

template class StationaryKernel<Matern12Profile>;
template class StationaryKernel<Matern32Profile>;
template class StationaryKernel<Matern52Profile>;
template class StationaryKernel<RbfProfile>;

Eigen::VectorXd stationary_log_params(const Eigen::Ref<const Eigen::VectorXd>& length_scales,
                                      double signal_variance) {
  if (!(length_scales.array() > 0.0).all() || !(signal_variance > 0.0))
    throw InputError("gp: stationary_log_params: length scales and signal variance must be > 0");
  Eigen::VectorXd p(length_scales.size() + 1);
  p.head(length_scales.size()) = length_scales.array().log().matrix();
  p[length_scales.size()] = std::log(signal_variance);
  return p;
}

// ---------------------------------------------------------------------------
// Registry

Registry<KernelFactory>& kernel_registry() {
  static Registry<KernelFactory> registry("gp kernel", [] {
    return Registry<KernelFactory>::Entries{
        {"matern12",
         [](int dim, const KernelSettings& s) {
           return std::unique_ptr<Kernel>(new Matern12Kernel(dim, s));
         }},
        {"matern32",
         [](int dim, const KernelSettings& s) {
           return std::unique_ptr<Kernel>(new Matern32Kernel(dim, s));
         }},
        {"matern52",
         [](int dim, const KernelSettings& s) {
           return std::unique_ptr<Kernel>(new Matern52Kernel(dim, s));
         }},
        {"rbf", [](int dim, const KernelSettings& s) {
           return std::unique_ptr<Kernel>(new RbfKernel(dim, s));
         }}};
  });
  return registry;
}

std::unique_ptr<Kernel> make_kernel(const std::string& name, int input_dim,
                                    const KernelSettings& settings) {
  if (!kernel_registry().contains(name))
    throw InputError("gp: unknown kernel '" + name +
                     "'; registered kernels: " + kernel_registry().known());
  return kernel_registry().get(name)(input_dim, settings);
}

}  // namespace thor::gp
