#include "thor/layer_model.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "thor/error.hpp"

namespace thor {

using nlohmann::json;

gp::Options LayerModelOptions::default_gp() {
  gp::Options o;
  o.mean = "zero";
  o.restarts = 4;
  // The known per-point noise is on the diagonal; the learned noise only
  // covers what it misses, and may be tiny.
  o.noise_variance_lower = 1e-8;
  o.initial_noise_variance = 1e-2;
  return o;
}

void LayerModelOptions::validate() const {
  if (step_widths.empty()) throw InputError("layer_model.step_widths: expected at least one width");
  for (int w : step_widths)
    if (w < 1 || w > 4096)
      throw InputError("layer_model.step_widths: width " + std::to_string(w) + " not in 1..4096");
  if (!(step_gain >= 0.0 && step_gain < 1.0))
    throw InputError("layer_model.step_gain = " + std::to_string(step_gain) +
                     ": expected 0 <= x < 1");
  if (!(relative_noise_floor >= 0.0 && relative_noise_floor < 1.0))
    throw InputError("layer_model.relative_noise_floor = " + std::to_string(relative_noise_floor) +
                     ": expected 0 <= x < 1");
  gp.validate();
}

// ------------------------------------------------------------------ NNLS

Eigen::VectorXd nnls(const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                     const std::vector<bool>& free_vars) {
  const Eigen::Index p = A.cols();
  std::vector<bool> passive(static_cast<size_t>(p), false);
  for (Eigen::Index j = 0; j < p; ++j) passive[j] = free_vars[j];
  Eigen::VectorXd x = Eigen::VectorXd::Zero(p);
  // Least squares on the passive set; inactive entries are 0.
  auto solve_passive = [&] {
    std::vector<Eigen::Index> idx;
    for (Eigen::Index j = 0; j < p; ++j)
      if (passive[j]) idx.push_back(j);
    Eigen::VectorXd z = Eigen::VectorXd::Zero(p);
    if (idx.empty()) return z;
    Eigen::MatrixXd Ap(A.rows(), static_cast<Eigen::Index>(idx.size()));
    for (size_t k = 0; k < idx.size(); ++k) Ap.col(static_cast<Eigen::Index>(k)) = A.col(idx[k]);
    const Eigen::VectorXd zp = Ap.completeOrthogonalDecomposition().solve(b);
    for (size_t k = 0; k < idx.size(); ++k) z[idx[k]] = zp[static_cast<Eigen::Index>(k)];
    return z;
  };
  x = solve_passive();  // the free variables alone
  const double tol = 1e-12 * std::max(1.0, A.norm() * b.norm());
  for (int outer = 0; outer < 3 * static_cast<int>(p) + 10; ++outer) {
    const Eigen::VectorXd w = A.transpose() * (b - A * x);
    Eigen::Index best = -1;
    for (Eigen::Index j = 0; j < p; ++j)
      if (!passive[j] && w[j] > tol && (best < 0 || w[j] > w[best])) best = j;
    if (best < 0) break;
    passive[best] = true;
    for (int inner = 0; inner < 3 * static_cast<int>(p) + 10; ++inner) {
      const Eigen::VectorXd z = solve_passive();
      double alpha = 1.0;
      Eigen::Index hit = -1;
      for (Eigen::Index j = 0; j < p; ++j)
        if (passive[j] && !free_vars[j] && z[j] <= 0.0) {
          const double a = x[j] / std::max(1e-300, x[j] - z[j]);
          if (a < alpha) {
            alpha = a;
            hit = j;
          }
        }
      if (hit < 0) {
        x = z;
        break;
      }
      x += alpha * (z - x);
      for (Eigen::Index j = 0; j < p; ++j)
        if (passive[j] && !free_vars[j] && x[j] <= 1e-15) {
          passive[j] = false;
          x[j] = 0.0;
        }
    }
  }
  return x;
}

// ------------------------------------------------------------ work terms

int LayerModel::terms(int dims, bool quadratic, int step, const double* x, double* out) {
  auto up = [step](double c) { return step * std::ceil(c / step); };
  int n = 0;
  out[n++] = 1.0;
  if (dims == 1) {
    out[n++] = x[0];
    if (quadratic) out[n++] = x[0] * x[0];
    if (step > 1) out[n++] = up(x[0]);
    return n;
  }
  out[n++] = x[0];
  out[n++] = x[1];
  out[n++] = x[0] * x[1];
  if (quadratic) {
    out[n++] = x[0] * x[0];
    out[n++] = x[1] * x[1];
  }
  if (step > 1) out[n++] = up(x[0]) * up(x[1]);
  return n;
}

std::vector<std::string> LayerModel::term_names() const {
  const std::string s = std::to_string(step_);
  if (dims_ == 1) {
    std::vector<std::string> n{"1", "c"};
    if (quadratic_) n.push_back("c^2");
    if (step_ > 1) n.push_back(s + "*ceil(c/" + s + ")");
    return n;
  }
  std::vector<std::string> n{"1", "c_in", "c_out", "c_in*c_out"};
  if (quadratic_) {
    n.push_back("c_in^2");
    n.push_back("c_out^2");
  }
  if (step_ > 1) n.push_back("ceil_" + s + "(c_in)*ceil_" + s + "(c_out)");
  return n;
}

namespace {

constexpr int kMaxTerms = 7;

struct Design {
  Eigen::MatrixXd A;      // n × p work terms
  Eigen::VectorXd scale;  // column scale (max |A_ij|)
};

Design design(const Eigen::MatrixXd& X, bool quadratic, int step) {
  const int d = static_cast<int>(X.cols());
  double buf[kMaxTerms], x[2];
  x[0] = X(0, 0);
  x[1] = d > 1 ? X(0, 1) : 0.0;
  const int p = LayerModel::terms(d, quadratic, step, x, buf);
  Design D{Eigen::MatrixXd(X.rows(), p), Eigen::VectorXd::Zero(p)};
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    for (int k = 0; k < d; ++k) x[k] = X(i, k);
    LayerModel::terms(d, quadratic, step, x, buf);
    for (int j = 0; j < p; ++j) {
      D.A(i, j) = buf[j];
      D.scale[j] = std::max(D.scale[j], std::fabs(buf[j]));
    }
  }
  for (int j = 0; j < p; ++j)
    if (D.scale[j] == 0.0) D.scale[j] = 1.0;
  return D;
}

// Weighted NNLS (intercept free) on the rows in `rows`; coefficients in raw units.
Eigen::VectorXd fit_terms(const Design& D, const Eigen::VectorXd& y, const Eigen::VectorXd& w,
                          const std::vector<Eigen::Index>& rows) {
  const Eigen::Index p = D.A.cols();
  Eigen::MatrixXd A(static_cast<Eigen::Index>(rows.size()), p);
  Eigen::VectorXd b(static_cast<Eigen::Index>(rows.size()));
  for (size_t r = 0; r < rows.size(); ++r) {
    const Eigen::Index i = rows[r];
    A.row(static_cast<Eigen::Index>(r)) = (D.A.row(i).array() / D.scale.transpose().array()) * w[i];
    b[static_cast<Eigen::Index>(r)] = y[i] * w[i];
  }
  std::vector<bool> free_vars(static_cast<size_t>(p), false);
  free_vars[0] = true;
  return nnls(A, b, free_vars).cwiseQuotient(D.scale);
}

struct Loo {
  Eigen::VectorXd error;  // y_i − prediction without point i
  double score = 0.0;     // mean of (w_i e_i)^2
};

Loo loo_terms(const Design& D, const Eigen::VectorXd& y, const Eigen::VectorXd& w) {
  const Eigen::Index n = y.size();
  Loo l;
  l.error.resize(n);
  std::vector<Eigen::Index> rows;
  for (Eigen::Index i = 0; i < n; ++i) {
    rows.clear();
    for (Eigen::Index k = 0; k < n; ++k)
      if (k != i) rows.push_back(k);
    const Eigen::VectorXd c = fit_terms(D, y, w, rows);
    l.error[i] = y[i] - D.A.row(i).dot(c);
    l.score += (w[i] * l.error[i]) * (w[i] * l.error[i]);
  }
  l.score /= static_cast<double>(n);
  return l;
}

}  // namespace

namespace {

// Per-point variances (floored) and weights 1/sigma.
void point_weights(const Eigen::VectorXd& y, const Eigen::VectorXd& variance, double floor,
                   Eigen::VectorXd& var, Eigen::VectorXd& w) {
  const Eigen::Index n = y.size();
  const double mean_abs = std::max(1e-30, y.cwiseAbs().mean());
  var.resize(n);
  w.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double fl = floor * std::max(std::fabs(y[i]), 0.05 * mean_abs);
    var[i] = std::max({variance[i], fl * fl, 1e-300});
    w[i] = 1.0 / std::sqrt(var[i]);
  }
}

// The step width by leave-one-out; a stepped model must beat the best
// smoother one by `gain`. Returns the width and its leave-one-out errors.
std::pair<int, Loo> choose_step(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                const Eigen::VectorXd& w, bool quadratic, std::vector<int> widths,
                                double gain) {
  std::sort(widths.begin(), widths.end());
  widths.erase(std::unique(widths.begin(), widths.end()), widths.end());
  int best_step = 0;
  Loo best;
  for (int s : widths) {
    const Design D = design(X, quadratic, s);
    if (D.A.cols() >= X.rows()) continue;  // needs a point to spare for leave-one-out
    const Loo l = loo_terms(D, y, w);
    if (best_step == 0 || l.score < best.score * (1.0 - (s > 1 ? gain : 0.0))) {
      best_step = s;
      best = l;
    }
  }
  if (best_step == 0) {  // too few points for any leave-one-out: the smallest model
    best.error = Eigen::VectorXd::Zero(y.size());
    return {1, best};
  }
  return {best_step, best};
}

// Covariance of the active coefficients (raw units), scaled up when the
// residuals exceed the known noise.
Eigen::MatrixXd coefficient_covariance(const Design& D, const Eigen::VectorXd& coef,
                                       const Eigen::VectorXd& resid, const Eigen::VectorXd& w) {
  const Eigen::Index n = D.A.rows(), p = D.A.cols();
  std::vector<Eigen::Index> active{0};
  for (Eigen::Index j = 1; j < p; ++j)
    if (coef[j] > 0.0) active.push_back(j);
  const double dof =
      std::max<double>(1.0, static_cast<double>(n) - static_cast<double>(active.size()));
  const double chi2 = (resid.cwiseProduct(w)).squaredNorm() / dof;
  Eigen::MatrixXd Aw(n, static_cast<Eigen::Index>(active.size()));
  for (size_t k = 0; k < active.size(); ++k)
    Aw.col(static_cast<Eigen::Index>(k)) = D.A.col(active[k]).cwiseProduct(w) / D.scale[active[k]];
  const Eigen::MatrixXd cov =
      (Aw.transpose() * Aw).completeOrthogonalDecomposition().pseudoInverse() * std::max(1.0, chi2);
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(p, p);
  for (size_t a = 0; a < active.size(); ++a)
    for (size_t b = 0; b < active.size(); ++b)
      out(active[a], active[b]) = cov(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(b)) /
                                  (D.scale[active[a]] * D.scale[active[b]]);
  return out;
}

// A GP on the residual; returns it with its closed-form leave-one-out errors
// and variances (noise s_i^2 at point i: e_i = (r_i − mu_i)·s_i^2 / (s_i^2 −
// sigma_i^2), variance s_i^4 / (s_i^2 − sigma_i^2)), or nothing.
struct ResidualFit {
  gp::GaussianProcess gp;
  Loo loo;
  Eigen::VectorXd loo_var;
};
std::optional<ResidualFit> fit_residual(const Eigen::MatrixXd& X, const Eigen::VectorXd& resid,
                                        const Eigen::VectorXd& var, const Eigen::VectorXd& w,
                                        gp::Options go) {
  const Eigen::Index n = X.rows();
  double max_range = 1.0;
  for (Eigen::Index k = 0; k < X.cols(); ++k)
    max_range = std::max(max_range, X.col(k).maxCoeff() - X.col(k).minCoeff());
  // Not below one channel step: the GP must not interpolate between neighbours.
  go.length_scale_lower = std::max(go.length_scale_lower, 1.0 / max_range);
  go.initial_length_scale = std::max(go.initial_length_scale, go.length_scale_lower);
  go.threads = 1;
  try {
    ResidualFit f{gp::GaussianProcess(go), Loo{Eigen::VectorXd(n), 0.0}, Eigen::VectorXd(n)};
    f.gp.fit(X, resid, var);
    for (Eigen::Index i = 0; i < n; ++i) {
      const auto pr = f.gp.predict(X.row(i).transpose());
      const double s2 =
          (f.gp.noise_variance() + f.gp.jitter()) * f.gp.target_std() * f.gp.target_std() + var[i];
      const double den = s2 - pr.variance;
      if (!(den > 1e-300)) return std::nullopt;
      f.loo.error[i] = (resid[i] - pr.mean) * s2 / den;
      f.loo_var[i] = s2 * s2 / den;
      f.loo.score += (w[i] * f.loo.error[i]) * (w[i] * f.loo.error[i]);
    }
    f.loo.score /= static_cast<double>(n);
    return f;
  } catch (const std::exception&) {
    return std::nullopt;  // a residual GP that cannot be fitted is simply not used
  }
}

}  // namespace

void LayerModel::fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                     const Eigen::VectorXd& variance, const LayerModelOptions& o) {
  o.validate();
  const Eigen::Index n = X.rows();
  const int d = static_cast<int>(X.cols());
  if (d < 1 || d > 2)
    throw InputError("layer_model: expected 1 or 2 features, got " + std::to_string(d));
  if (n < 2 || y.size() != n || variance.size() != n)
    throw InputError("layer_model: need >= 2 points with one target and one variance each");
  if (!y.allFinite() || !variance.allFinite())
    throw InputError("layer_model: targets and variances must be finite");
  Eigen::VectorXd var, w;
  point_weights(y, variance, o.relative_noise_floor, var, w);

  auto [step, loo] = choose_step(X, y, w, o.quadratic, o.step_widths, o.step_gain);
  dims_ = d;
  quadratic_ = o.quadratic;
  step_ = step;
  const Design D = design(X, quadratic_, step_);
  std::vector<Eigen::Index> all(static_cast<size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) all[static_cast<size_t>(i)] = i;
  coef_ = fit_terms(D, y, w, all);
  const Eigen::VectorXd resid = y - D.A * coef_;
  coef_cov_ = coefficient_covariance(D, coef_, resid, w);

  Eigen::VectorXd loo_var(n);
  for (Eigen::Index i = 0; i < n; ++i)
    loo_var[i] = D.A.row(i).dot(coef_cov_ * D.A.row(i).transpose()) + var[i];
  residual_.reset();
  if (o.residual_gp && n >= 4 && resid.cwiseAbs().maxCoeff() > 0.0) {
    auto r = fit_residual(X, resid, var, w, o.gp);
    if (r && r->loo.score < loo.score) {  // kept only when leave-one-out says it helps
      residual_ = std::move(r->gp);
      loo = r->loo;
      loo_var = r->loo_var;
    }
  }

  // Calibration: scale the variance so that leave-one-out errors are covered.
  const double mean_abs = std::max(1e-30, y.cwiseAbs().mean());
  double z2 = 0.0, rel2 = 0.0, abs2 = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double e = loo.error[i];
    z2 += e * e / std::max(1e-300, loo_var[i]);
    const double r = e / std::max(std::fabs(y[i]), 0.05 * mean_abs);
    rel2 += r * r;
    abs2 += e * e;
  }
  kappa_ = std::max(1.0, z2 / static_cast<double>(n));
  loo_rel_ = std::sqrt(rel2 / static_cast<double>(n));
  loo_rms_ = std::sqrt(abs2 / static_cast<double>(n));
}

double LayerModel::predict_mean(const double* x) const {
  double buf[kMaxTerms];
  const int q = terms(dims_, quadratic_, step_, x, buf);
  double m = 0.0;
  for (int j = 0; j < q; ++j) m += coef_[j] * buf[j];
  if (residual_) m += residual_->predict_mean(Eigen::Map<const Eigen::VectorXd>(x, dims_));
  return m;
}

gp::Prediction LayerModel::predict(const double* x) const {
  double buf[kMaxTerms];
  const int q = terms(dims_, quadratic_, step_, x, buf);
  const Eigen::Map<const Eigen::VectorXd> phi(buf, q);
  gp::Prediction p;
  p.mean = coef_.head(q).dot(phi);
  p.variance = phi.dot(coef_cov_ * phi);
  if (residual_) {
    const auto r = residual_->predict(Eigen::Map<const Eigen::VectorXd>(x, dims_));
    p.mean += r.mean;
    p.variance += r.variance;
  }
  p.variance = std::max(0.0, p.variance) * kappa_;
  return p;
}

std::string LayerModel::summary() const {
  std::ostringstream s;
  const auto names = term_names();
  s << "work model:";
  for (size_t j = 0; j < names.size(); ++j)
    s << (j ? " + " : " ") << coef_[static_cast<Eigen::Index>(j)] << "·" << names[j];
  s << (residual_ ? "; residual GP" : "; no residual GP") << "; LOO error " << loo_rel_ * 100
    << "%";
  return s.str();
}

json LayerModel::to_json() const {
  json j;
  j["dims"] = dims_;
  if (quadratic_) j["work"] = "quadratic";
  j["step"] = step_;
  j["terms"] = term_names();
  j["coefficients"] = std::vector<double>(coef_.data(), coef_.data() + coef_.size());
  std::vector<double> cov(coef_cov_.data(), coef_cov_.data() + coef_cov_.size());
  j["coefficient_covariance"] = cov;
  j["loo_relative_error"] = loo_rel_;
  j["loo_rms"] = loo_rms_;
  j["variance_scale"] = kappa_;
  j["residual_gp"] = residual_ ? residual_->to_json() : json();
  return j;
}

LayerModel LayerModel::from_json(const json& j, const std::string& where) {
  LayerModel m;
  try {
    m.dims_ = j.at("dims").get<int>();
    m.step_ = j.at("step").get<int>();
    if (m.dims_ < 1 || m.dims_ > 2) throw InputError(where + ": key 'dims' must be 1 or 2");
    if (m.step_ < 1) throw InputError(where + ": key 'step' must be >= 1");
    const std::string work = j.value("work", std::string("bilinear"));
    if (work != "bilinear" && work != "quadratic")
      throw InputError(where + ": key 'work': expected bilinear or quadratic, got '" + work + "'");
    m.quadratic_ = work == "quadratic";
    double buf[kMaxTerms], x[2] = {1.0, 1.0};
    const int q = terms(m.dims_, m.quadratic_, m.step_, x, buf);
    const auto c = j.at("coefficients").get<std::vector<double>>();
    const auto cov = j.at("coefficient_covariance").get<std::vector<double>>();
    if (static_cast<int>(c.size()) != q || static_cast<int>(cov.size()) != q * q)
      throw InputError(where + ": expected " + std::to_string(q) + " coefficients and a " +
                       std::to_string(q) + "x" + std::to_string(q) + " covariance");
    m.coef_ = Eigen::Map<const Eigen::VectorXd>(c.data(), q);
    m.coef_cov_ = Eigen::Map<const Eigen::MatrixXd>(cov.data(), q, q);
    m.loo_rel_ = j.at("loo_relative_error").get<double>();
    m.loo_rms_ = j.at("loo_rms").get<double>();
    m.kappa_ = j.at("variance_scale").get<double>();
    if (!(m.kappa_ >= 1.0)) throw InputError(where + ": key 'variance_scale' must be >= 1");
    if (!j.at("residual_gp").is_null()) {
      m.residual_ = gp::GaussianProcess::from_json(j.at("residual_gp"));
      if (m.residual_->input_dim() != m.dims_)
        throw InputError(where + ": key 'residual_gp': input_dim " +
                         std::to_string(m.residual_->input_dim()) + ", expected 'dims' (" +
                         std::to_string(m.dims_) + ")");
    }
  } catch (const json::exception& e) {
    throw InputError(where + ": " + e.what());
  }
  return m;
}

}  // namespace thor
