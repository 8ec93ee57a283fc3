#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "thor/error.hpp"
#include "thor/gp/gp.hpp"

namespace thor::gp {

namespace {

std::string json_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

const nlohmann::json& json_at(const nlohmann::json& j, const std::string& parent,
                              const std::string& key) {
  if (!j.is_object())
    throw InputError("gp: json: '" + (parent.empty() ? std::string("<root>") : parent) +
                     "' must be an object");
  auto it = j.find(key);
  if (it == j.end()) throw InputError("gp: json: missing key '" + json_path(parent, key) + "'");
  return *it;
}

double json_double(const nlohmann::json& j, const std::string& parent, const std::string& key) {
  const auto& v = json_at(j, parent, key);
  if (!v.is_number())
    throw InputError("gp: json: key '" + json_path(parent, key) + "' must be a number, got " +
                     v.dump());
  const double d = v.get<double>();
  if (!std::isfinite(d))
    throw InputError("gp: json: key '" + json_path(parent, key) + "' must be finite");
  return d;
}

bool json_bool(const nlohmann::json& j, const std::string& parent, const std::string& key) {
  const auto& v = json_at(j, parent, key);
  if (!v.is_boolean())
    throw InputError("gp: json: key '" + json_path(parent, key) + "' must be true or false, got " +
                     v.dump());
  return v.get<bool>();
}

// A count stored as a number ("restarts": 4): it must fit an int.
int json_int(const nlohmann::json& j, const std::string& parent, const std::string& key) {
  const double d = json_double(j, parent, key);
  if (!(d >= std::numeric_limits<int>::min() && d <= std::numeric_limits<int>::max()))
    throw InputError("gp: json: key '" + json_path(parent, key) + "' must be a 32-bit integer");
  return static_cast<int>(d);
}

std::string json_string(const nlohmann::json& j, const std::string& parent,
                        const std::string& key) {
  const auto& v = json_at(j, parent, key);
  if (!v.is_string())
    throw InputError("gp: json: key '" + json_path(parent, key) + "' must be a string, got " +
                     v.dump());
  return v.get<std::string>();
}

Eigen::VectorXd json_vector(const nlohmann::json& j, const std::string& parent,
                            const std::string& key, Eigen::Index expected = -1) {
  const auto& v = json_at(j, parent, key);
  const std::string path = json_path(parent, key);
  if (!v.is_array()) throw InputError("gp: json: key '" + path + "' must be an array of numbers");
  if (expected >= 0 && static_cast<Eigen::Index>(v.size()) != expected)
    throw InputError("gp: json: key '" + path + "' must have " + std::to_string(expected) +
                     " entries, got " + std::to_string(v.size()));
  Eigen::VectorXd out(static_cast<Eigen::Index>(v.size()));
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_number())
      throw InputError("gp: json: key '" + path + "[" + std::to_string(i) +
                       "]' must be a number, got " + v[i].dump());
    out[static_cast<Eigen::Index>(i)] = v[i].get<double>();
    if (!std::isfinite(out[static_cast<Eigen::Index>(i)]))
      throw InputError("gp: json: key '" + path + "[" + std::to_string(i) + "]' must be finite");
  }
  return out;
}

nlohmann::json vector_json(const Eigen::VectorXd& v) {
  nlohmann::json a = nlohmann::json::array();
  for (Eigen::Index i = 0; i < v.size(); ++i) a.push_back(v[i]);
  return a;
}

}  // namespace

// ---------------------------------------------------------------------------
// JSON

nlohmann::json GaussianProcess::to_json() const {
  require_conditioned("to_json");
  nlohmann::json j;
  j["format"] = "thor.gp";
  j["version"] = 1;
  j["kernel"] = {{"name", kernel_->name()},
                 {"input_dim", kernel_->input_dim()},
                 {"log_params", vector_json(kernel_->log_params())},
                 {"log_lower_bounds", vector_json(kernel_->log_lower_bounds())},
                 {"log_upper_bounds", vector_json(kernel_->log_upper_bounds())}};
  j["mean"] = {{"name", mean_->name()},
               {"params", vector_json(mean_->params())},
               {"param_bound", mean_->param_bound()}};
  j["noise_variance"] = noise_variance_;
  j["jitter"] = jitter_;
  j["normalization"] = {{"inputs", options_.normalize_inputs},
                        {"targets", options_.normalize_targets},
                        {"input_offset", vector_json(x_lo_)},
                        {"input_range", vector_json(x_range_)},
                        {"target_mean", y_mean_},
                        {"target_std", y_std_}};
  const Options& o = options_;
  j["options"] = {{"initial_length_scale", o.initial_length_scale},
                  {"length_scale_lower", o.length_scale_lower},
                  {"length_scale_upper", o.length_scale_upper},
                  {"initial_signal_variance", o.initial_signal_variance},
                  {"signal_variance_lower", o.signal_variance_lower},
                  {"signal_variance_upper", o.signal_variance_upper},
                  {"initial_noise_variance", o.initial_noise_variance},
                  {"noise_variance_lower", o.noise_variance_lower},
                  {"noise_variance_upper", o.noise_variance_upper},
                  {"learn_noise", o.learn_noise},
                  {"mean_param_bound", o.mean_param_bound},
                  {"restarts", o.restarts},
                  {"seed", o.seed},
                  {"threads", o.threads},
                  {"max_iterations", o.max_iterations},
                  {"gradient_tolerance", o.gradient_tolerance},
                  {"objective_tolerance", o.objective_tolerance},
                  {"restart_log_width", o.restart_log_width},
                  {"jitter_min_relative", o.jitter_min_relative},
                  {"jitter_max_relative", o.jitter_max_relative}};
  nlohmann::json inputs = nlohmann::json::array();
  for (Eigen::Index i = 0; i < X_.rows(); ++i) inputs.push_back(vector_json(X_.row(i).transpose()));
  j["inputs"] = std::move(inputs);
  j["targets"] = vector_json(y_);
  if (pv_.size() > 0) j["point_variance"] = vector_json(pv_);
  j["log_marginal_likelihood"] = lml_;
  return j;
}

namespace {

// The "options" object of a stored GP.
Options options_from_json(const nlohmann::json& jo) {
  Options o;
  const std::string p = "options";
  o.initial_length_scale = json_double(jo, p, "initial_length_scale");
  o.length_scale_lower = json_double(jo, p, "length_scale_lower");
  o.length_scale_upper = json_double(jo, p, "length_scale_upper");
  o.initial_signal_variance = json_double(jo, p, "initial_signal_variance");
  o.signal_variance_lower = json_double(jo, p, "signal_variance_lower");
  o.signal_variance_upper = json_double(jo, p, "signal_variance_upper");
  o.initial_noise_variance = json_double(jo, p, "initial_noise_variance");
  o.noise_variance_lower = json_double(jo, p, "noise_variance_lower");
  o.noise_variance_upper = json_double(jo, p, "noise_variance_upper");
  o.learn_noise = json_bool(jo, p, "learn_noise");
  o.mean_param_bound = json_double(jo, p, "mean_param_bound");
  o.restarts = json_int(jo, p, "restarts");
  const auto& seed = json_at(jo, p, "seed");
  if (!seed.is_number_unsigned() && !seed.is_number_integer())
    throw InputError("gp: json: key 'options.seed' must be a non-negative integer");
  o.seed = seed.get<std::uint64_t>();
  o.threads = json_int(jo, p, "threads");
  o.max_iterations = json_int(jo, p, "max_iterations");
  o.gradient_tolerance = json_double(jo, p, "gradient_tolerance");
  o.objective_tolerance = json_double(jo, p, "objective_tolerance");
  o.restart_log_width = json_double(jo, p, "restart_log_width");
  o.jitter_min_relative = json_double(jo, p, "jitter_min_relative");
  o.jitter_max_relative = json_double(jo, p, "jitter_max_relative");
  return o;
}

// The training inputs: an array of n points of d numbers each.
Eigen::MatrixXd inputs_from_json(const nlohmann::json& jx, Eigen::Index d) {
  const Eigen::Index n = static_cast<Eigen::Index>(jx.size());
  // Every row's size first: `d` comes from the file, and X is n x d.
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto& row = jx[static_cast<std::size_t>(i)];
    if (!row.is_array() || static_cast<Eigen::Index>(row.size()) != d)
      throw InputError("gp: json: key 'inputs[" + std::to_string(i) + "]' must be an array of " +
                       std::to_string(d) + " numbers");
  }
  Eigen::MatrixXd X(n, d);
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto& row = jx[static_cast<std::size_t>(i)];
    const std::string key = "inputs[" + std::to_string(i) + "]";
    for (Eigen::Index k = 0; k < d; ++k) {
      const auto& v = row[static_cast<std::size_t>(k)];
      if (!v.is_number())
        throw InputError("gp: json: key '" + key + "[" + std::to_string(k) + "]' must be a number");
      X(i, k) = v.get<double>();
    }
  }
  return X;
}

}  // namespace

GaussianProcess GaussianProcess::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw InputError("gp: json: expected an object at the root");
  const std::string format = json_string(j, "", "format");
  if (format != "thor.gp")
    throw InputError("gp: json: key 'format' is '" + format + "', expected 'thor.gp'");
  const auto& version = json_at(j, "", "version");
  if (!version.is_number_integer() || version.get<int>() != 1)
    throw InputError("gp: json: key 'version' is " + version.dump() + ", expected 1");

  Options o = j.contains("options") ? options_from_json(j.at("options")) : Options{};
  const auto& jk = json_at(j, "", "kernel");
  const auto& jm = json_at(j, "", "mean");
  const auto& jn = json_at(j, "", "normalization");
  o.kernel = json_string(jk, "kernel", "name");
  o.mean = json_string(jm, "mean", "name");
  o.normalize_inputs = json_bool(jn, "normalization", "inputs");
  o.normalize_targets = json_bool(jn, "normalization", "targets");
  try {
    o.validate();
  } catch (const InputError& e) {
    throw InputError(std::string("gp: json: bad options: ") + e.what());
  }

  // Training data.
  const auto& jx = json_at(j, "", "inputs");
  if (!jx.is_array() || jx.empty())
    throw InputError("gp: json: key 'inputs' must be a non-empty array of points");
  const Eigen::Index n = static_cast<Eigen::Index>(jx.size());
  const auto& jdim = json_at(jk, "kernel", "input_dim");
  if (!jdim.is_number_integer() || jdim.get<int>() < 1)
    throw InputError("gp: json: key 'kernel.input_dim' must be a positive integer");
  const Eigen::Index d = jdim.get<int>();
  const Eigen::MatrixXd X = inputs_from_json(jx, d);
  const Eigen::VectorXd y = json_vector(j, "", "targets", n);

  GaussianProcess gp(o);
  gp.set_data(X, y);
  gp.make_components();
  // Stored normalisation wins over recomputation, so predictions are identical
  // even if the normalisation rule changes in a later version.
  gp.x_lo_ = json_vector(jn, "normalization", "input_offset", d);
  gp.x_range_ = json_vector(jn, "normalization", "input_range", d);
  if (!(gp.x_range_.array() > 0.0).all())
    throw InputError("gp: json: key 'normalization.input_range' entries must be > 0");
  gp.x_inv_range_ = gp.x_range_.cwiseInverse();
  gp.y_mean_ = json_double(jn, "normalization", "target_mean");
  gp.y_std_ = json_double(jn, "normalization", "target_std");
  if (!(gp.y_std_ > 0.0)) throw InputError("gp: json: key 'normalization.target_std' must be > 0");
  gp.Xn_ = (gp.X_.rowwise() - gp.x_lo_.transpose()).array().rowwise() *
           gp.x_inv_range_.transpose().array();
  gp.yn_ = (gp.y_.array() - gp.y_mean_) / gp.y_std_;
  if (j.contains("point_variance")) {
    gp.pv_ = json_vector(j, "", "point_variance", n);
    if (!(gp.pv_.array() >= 0.0).all())
      throw InputError("gp: json: key 'point_variance' entries must be >= 0");
    gp.pvn_ = gp.pv_ / (gp.y_std_ * gp.y_std_);
  }

  const Eigen::VectorXd lp = json_vector(jk, "kernel", "log_params", gp.kernel_->num_params());
  gp.kernel_->set_log_params(lp);
  const Eigen::VectorXd mp = json_vector(jm, "mean", "params", gp.mean_->num_params());
  if (mp.size() > 0) gp.mean_->set_params(mp);
  gp.noise_variance_ = json_double(j, "", "noise_variance");
  if (!(gp.noise_variance_ >= 0.0)) throw InputError("gp: json: key 'noise_variance' must be >= 0");
  gp.jitter_ = json_double(j, "", "jitter");
  if (!(gp.jitter_ >= 0.0)) throw InputError("gp: json: key 'jitter' must be >= 0");
  try {
    gp.factorize(false);
  } catch (const NumericalError& e) {  // the stored hyperparameters, not the code, are at fault
    throw InputError(std::string("gp: json: the stored model cannot be used: ") + e.what());
  }
  return gp;
}

}  // namespace thor::gp
