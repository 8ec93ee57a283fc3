#include "thor/gp/kernel.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <sstream>

#include "small_buffer.hpp"
#include "thor/error.hpp"

namespace thor::gp {

namespace {

using detail::SmallBuffer;
constexpr std::size_t kStackDim = 16;

// Copies row i of X into a contiguous buffer.
inline void copy_row(const Eigen::Ref<const Eigen::MatrixXd>& X, Eigen::Index i, double* out) {
  for (Eigen::Index d = 0; d < X.cols(); ++d) out[d] = X(i, d);
}

std::string fmt_double(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// The math of each radial profile g(r), given r^2.
//   value(r2)          -> g
//   value_dlog(r2,g,h) -> g and h = -g'(r) / r  (so dk/dlog l_d = s2 h u_d^2)
//   apply(o, s2)       -> o := s2 g(o) in place, o holding r^2 (vectorised)
template <class Profile>
struct ProfileMath;

template <>
struct ProfileMath<Matern12Profile> {
  static double value(double r2) { return std::exp(-std::sqrt(r2)); }
  static void value_dlog(double r2, double& g, double& h) {
    const double r = std::sqrt(r2);
    g = std::exp(-r);
    h = r > 0.0 ? g / r : 0.0;  // u_d = 0 when r = 0, so the product is 0 there
  }
  template <class A>
  static void apply(A&& o, double s2) {
    o = s2 * (-o.sqrt()).exp();
  }
};

template <>
struct ProfileMath<Matern32Profile> {
  static constexpr double kS3 = 1.7320508075688772;
  static double value(double r2) {
    const double r = std::sqrt(r2);
    return (1.0 + kS3 * r) * std::exp(-kS3 * r);
  }
  static void value_dlog(double r2, double& g, double& h) {
    const double r = std::sqrt(r2);
    const double e = std::exp(-kS3 * r);
    g = (1.0 + kS3 * r) * e;
    h = 3.0 * e;
  }
  template <class A>
  static void apply(A&& o, double s2) {
    o = o.sqrt();
    o = s2 * (1.0 + kS3 * o) * (-kS3 * o).exp();
  }
};

template <>
struct ProfileMath<Matern52Profile> {
  static constexpr double kS5 = 2.23606797749979;
  static double value(double r2) {
    const double r = std::sqrt(r2);
    return (1.0 + kS5 * r + (5.0 / 3.0) * r2) * std::exp(-kS5 * r);
  }
  static void value_dlog(double r2, double& g, double& h) {
    const double r = std::sqrt(r2);
    const double e = std::exp(-kS5 * r);
    g = (1.0 + kS5 * r + (5.0 / 3.0) * r2) * e;
    h = (5.0 / 3.0) * (1.0 + kS5 * r) * e;
  }
  template <class A>
  static void apply(A&& o, double s2) {
    o = o.sqrt();
    o = s2 * (1.0 + kS5 * o + (5.0 / 3.0) * o.square()) * (-kS5 * o).exp();
  }
};

template <>
struct ProfileMath<RbfProfile> {
  static double value(double r2) { return std::exp(-0.5 * r2); }
  static void value_dlog(double r2, double& g, double& h) {
    g = std::exp(-0.5 * r2);
    h = g;
  }
  template <class A>
  static void apply(A&& o, double s2) {
    o = s2 * (-0.5 * o).exp();
  }
};

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, KernelFactory>& registry() {
  static std::map<std::string, KernelFactory> r;
  return r;
}

}  // namespace

void KernelSettings::validate() const {
  auto positive = [](const char* field, double v) {
    if (!(v > 0.0) || !std::isfinite(v))
      throw InputError(std::string("gp: KernelSettings.") + field + " = " + fmt_double(v) +
                       ": must be a positive finite number");
  };
  positive("length_scale", length_scale);
  positive("signal_variance", signal_variance);
  positive("length_scale_lower", length_scale_lower);
  positive("length_scale_upper", length_scale_upper);
  positive("signal_variance_lower", signal_variance_lower);
  positive("signal_variance_upper", signal_variance_upper);
  if (length_scale_lower > length_scale_upper)
    throw InputError("gp: KernelSettings.length_scale_lower = " + fmt_double(length_scale_lower) +
                     ": must not exceed length_scale_upper = " + fmt_double(length_scale_upper));
  if (signal_variance_lower > signal_variance_upper)
    throw InputError("gp: KernelSettings.signal_variance_lower = " +
                     fmt_double(signal_variance_lower) +
                     ": must not exceed signal_variance_upper = " +
                     fmt_double(signal_variance_upper));
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

void Kernel::gram_gradient_contract(const Eigen::Ref<const Eigen::MatrixXd>& X,
                                    const Eigen::Ref<const Eigen::MatrixXd>& W,
                                    double* grad) const {
  const Eigen::Index n = X.rows();
  const std::size_t d = static_cast<std::size_t>(X.cols());
  const std::size_t p = static_cast<std::size_t>(num_params());
  SmallBuffer<kStackDim> a(d), b(d), g(p);
  for (Eigen::Index j = 0; j < n; ++j) {
    copy_row(X, j, b.data());
    for (Eigen::Index i = j; i < n; ++i) {
      copy_row(X, i, a.data());
      gradient(a.data(), b.data(), g.data());
      const double w = i == j ? W(i, j) : 2.0 * W(i, j);
      for (std::size_t k = 0; k < p; ++k) grad[k] += w * g[k];
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
  const Eigen::Index n = X.rows();
  Eigen::Map<Eigen::ArrayXd> o(out, n);
  o = ((X.col(0).array() - x[0]) * inv_length_scale_[0]).square();
  for (int d = 1; d < dim_; ++d)
    o += ((X.col(d).array() - x[d]) * inv_length_scale_[d]).square();
  ProfileMath<Profile>::apply(o, signal_variance_);
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
    cross_point(x.data(), X.bottomRows(m), K.col(j).data() + j + 1);
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
void StationaryKernel<Profile>::gram_gradient_contract(const Eigen::Ref<const Eigen::MatrixXd>& X,
                                                       const Eigen::Ref<const Eigen::MatrixXd>& W,
                                                       double* grad) const {
  const Eigen::Index n = X.rows();
  SmallBuffer<kStackDim> gl(static_cast<std::size_t>(dim_)), u2(static_cast<std::size_t>(dim_));
  for (int d = 0; d < dim_; ++d) gl[d] = 0.0;
  double gs = 0.0;
  for (Eigen::Index j = 0; j < n; ++j) {
    gs += W(j, j);  // g(0) = 1, and dk/dlog l = 0 on the diagonal
    for (Eigen::Index i = j + 1; i < n; ++i) {
      double r2 = 0.0;
      for (int d = 0; d < dim_; ++d) {
        const double u = (X(i, d) - X(j, d)) * inv_length_scale_[d];
        u2[d] = u * u;
        r2 += u2[d];
      }
      double g, h;
      ProfileMath<Profile>::value_dlog(r2, g, h);
      const double w = 2.0 * W(i, j);
      gs += w * g;
      const double wh = w * h;
      for (int d = 0; d < dim_; ++d) gl[d] += wh * u2[d];
    }
  }
  for (int d = 0; d < dim_; ++d) grad[d] += signal_variance_ * gl[d];
  grad[dim_] += signal_variance_ * gs;
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

void register_kernel(const std::string& name, KernelFactory factory) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry()[name] = std::move(factory);
}

void register_builtin_kernels() {
  // Adds only missing names, so a user factory registered under a built-in
  // name is never overwritten.
  auto add = [](const std::string& name, KernelFactory f) {
    std::lock_guard<std::mutex> lock(registry_mutex());
    registry().emplace(name, std::move(f));
  };
  add("matern12", [](int dim, const KernelSettings& s) {
    return std::unique_ptr<Kernel>(new Matern12Kernel(dim, s));
  });
  add("matern32", [](int dim, const KernelSettings& s) {
    return std::unique_ptr<Kernel>(new Matern32Kernel(dim, s));
  });
  add("matern52", [](int dim, const KernelSettings& s) {
    return std::unique_ptr<Kernel>(new Matern52Kernel(dim, s));
  });
  add("rbf", [](int dim, const KernelSettings& s) {
    return std::unique_ptr<Kernel>(new RbfKernel(dim, s));
  });
}

std::unique_ptr<Kernel> make_kernel(const std::string& name, int input_dim,
                                    const KernelSettings& settings) {
  KernelFactory factory;
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    auto it = registry().find(name);
    if (it != registry().end()) factory = it->second;
  }
  if (!factory) {
    std::string known;
    for (const auto& n : kernel_names()) known += (known.empty() ? "" : ", ") + n;
    throw InputError("gp: unknown kernel '" + name + "'; registered kernels: " +
                     (known.empty() ? std::string("none (call register_builtin_kernels())")
                                    : known));
  }
  return factory(input_dim, settings);
}

std::vector<std::string> kernel_names() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<std::string> names;
  for (const auto& kv : registry()) names.push_back(kv.first);
  return names;
}

}  // namespace thor::gp
