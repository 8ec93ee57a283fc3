#include "thor/profile.hpp"

#include <Eigen/Dense>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <thread>

#include "thor/io.hpp"
#include "thor/train.hpp"

namespace thor {

using nlohmann::json;

gp::Prediction KindModel::predict(const std::vector<double>& features) const {
  if (!model.fitted()) throw std::logic_error("kind '" + key + "' has no fitted model");
  if (static_cast<int>(features.size()) != model.dims())
    throw std::logic_error("kind '" + key + "': " + std::to_string(features.size()) +
                           " features for a " + std::to_string(model.dims()) + "-D model");
  return model.predict(features.data());
}

void KindModel::refit(const LayerModelOptions& options) {
  if (points.empty()) return;
  const Eigen::Index n = static_cast<Eigen::Index>(points.size());
  const Eigen::Index d = static_cast<Eigen::Index>(points[0].features.size());
  Eigen::MatrixXd X(n, d);
  Eigen::VectorXd y(n), v(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index k = 0; k < d; ++k) X(i, k) = points[i].features[k];
    y(i) = points[i].derived;
    v(i) = points[i].variance;
  }
  LayerModelOptions o = options;
  o.quadratic = kind_traits(role, key).quadratic;
  model.fit(X, y, v, o);
}

std::vector<std::string> ProfileSettings::differences(const ProfileSettings& o) const {
  std::vector<std::string> d;
  auto cmp = [&](const char* name, const auto& a, const auto& b) {
    if (a != b) {
      std::ostringstream s;
      s << name << ": " << a << " (profile) vs " << b << " (now)";
      d.push_back(s.str());
    }
  };
  cmp("cpu_model", cpu_model, o.cpu_model);
  cmp("cores", cores, o.cores);
  cmp("gpu", gpu, o.gpu);
  cmp("meter", meter, o.meter);
  cmp("torch_version", torch_version, o.torch_version);
  cmp("device", device, o.device);
  cmp("threads", threads, o.threads);
  cmp("flush_denormal", flush_denormal, o.flush_denormal);
  cmp("iterations", iterations, o.iterations);
  cmp("repeats", repeats, o.repeats);
  cmp("warmup", warmup, o.warmup);
  cmp("min_window_seconds", min_window_seconds, o.min_window_seconds);
  cmp("min_warmup_seconds", min_warmup_seconds, o.min_warmup_seconds);
  cmp("data", data, o.data);
  cmp("optimizer", optimizer, o.optimizer);
  cmp("lr", lr, o.lr);
  cmp("momentum", momentum, o.momentum);
  cmp("weight_decay", weight_decay, o.weight_decay);
  cmp("static_watts", static_watts, o.static_watts);
  cmp("core_watts", core_watts, o.core_watts);
  return d;
}

namespace {
std::string read_cpu_model() {
  // For containers that hide /proc/cpuinfo, and for tests of mixed nodes.
  if (const char* forced = std::getenv("THOR_CPU_MODEL"); forced && *forced) return forced;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto pos = line.find(':');
      if (pos != std::string::npos) return line.substr(pos + 2);
    }
  return "unknown";
}
}  // namespace

HostDescription describe_host() {
  return {read_cpu_model(), static_cast<int>(std::thread::hardware_concurrency()),
          thor::torch_version()};
}

std::string to_string(const HostDescription& h) {
  return h.cpu_model + ", " + std::to_string(h.cores) + " cores, LibTorch " + h.torch_version;
}

std::vector<std::string> host_differences(const ProfileSettings& p, const HostDescription& h) {
  std::vector<std::string> d;
  if (p.cpu_model != h.cpu_model)
    d.push_back("cpu_model: " + p.cpu_model + " (profile) vs " + h.cpu_model + " (host)");
  if (p.cores != h.cores)
    d.push_back("cores: " + std::to_string(p.cores) + " (profile) vs " + std::to_string(h.cores) +
                " (host)");
  if (p.torch_version != h.torch_version)
    d.push_back("torch_version: " + p.torch_version + " (profile) vs " + h.torch_version +
                " (host)");
  return d;
}

ProfileSettings ProfileSettings::current(const EnergyMeter& meter, const MeterOptions& mo,
                                         const MeasureOptions& measure, const TrainFeed& feed,
                                         const std::vector<int64_t>& data_shape) {
  ProfileSettings s;
  const HostDescription host = describe_host();
  s.cpu_model = host.cpu_model;
  s.cores = host.cores;
  s.gpu = measure.device == "cuda" ? "cuda:0" : "";
  s.meter = meter.name();
  s.kind = meter.kind();
  s.torch_version = host.torch_version;
  s.device = measure.device;
  s.threads = measure.threads;
  s.flush_denormal = measure.flush_denormal;
  s.iterations = measure.iterations;
  s.repeats = measure.repeats;
  s.warmup = measure.warmup;
  s.min_window_seconds = measure.min_window_seconds;
  s.min_warmup_seconds = measure.min_warmup_seconds;
  s.data = feed_name(feed, data_shape.empty() && feed.data ? feed.data->sample_shape : data_shape);
  s.optimizer = feed.train.optimizer;
  s.lr = feed.train.lr;
  s.momentum = feed.train.momentum;
  s.weight_decay = feed.train.weight_decay;
  if (meter.kind() == EnergyKind::modelled) {
    s.static_watts = mo.static_watts;
    s.core_watts = mo.core_watts;
  }
  return s;
}

MeasureOptions ProfileSettings::protocol() const {
  MeasureOptions o;
  o.iterations = iterations;
  o.min_window_seconds = min_window_seconds;
  o.min_warmup_seconds = min_warmup_seconds;
  o.repeats = repeats;
  o.warmup = warmup;
  o.threads = threads;
  o.flush_denormal = flush_denormal;
  o.device = device;
  return o;
}

json DeviceProfile::to_json() const {
  json j;
  j["schema_version"] = kSchemaVersion;
  j["settings"] = {{"cpu_model", settings.cpu_model},
                   {"cores", settings.cores},
                   {"gpu", settings.gpu},
                   {"meter", settings.meter},
                   {"kind", to_string(settings.kind)},
                   {"torch_version", settings.torch_version},
                   {"device", settings.device},
                   {"threads", settings.threads},
                   {"flush_denormal", settings.flush_denormal},
                   {"iterations", settings.iterations},
                   {"repeats", settings.repeats},
                   {"warmup", settings.warmup},
                   {"min_window_seconds", settings.min_window_seconds},
                   {"min_warmup_seconds", settings.min_warmup_seconds},
                   {"static_watts", settings.static_watts},
                   {"core_watts", settings.core_watts},
                   {"data", settings.data},
                   {"optimizer", settings.optimizer},
                   {"lr", settings.lr},
                   {"momentum", settings.momentum},
                   {"weight_decay", settings.weight_decay}};
  j["flops_baseline"] = {{"a", flops.a}, {"b", flops.b}, {"fitted", flops.fitted}};
  j["reference"] = {{"joules_per_iteration", reference.joules_per_iteration},
                    {"end_joules_per_iteration", reference.end_joules_per_iteration},
                    {"cv", reference.cv}};
  json anchors_json = json::array();
  for (const auto& a : anchors)
    anchors_json.push_back({{"architecture", a.architecture},
                            {"structure", a.structure},
                            {"measured", a.measured},
                            {"variance", a.variance},
                            {"estimated", a.estimated},
                            {"estimated_variance", a.estimated_variance}});
  j["anchors"] = anchors_json;
  j["additivity"] = {{"scale", additivity.scale},
                     {"relative_std", additivity.relative_std},
                     {"anchors", additivity.anchors}};
  j["profile_seconds"] = profile_seconds;
  json kinds_json = json::array();
  for (const auto& [key, k] : kinds) {
    json kj;
    kj["key"] = key;
    kj["role"] = to_string(k.role);
    kj["lower"] = k.lower;
    kj["upper"] = k.upper;
    kj["stop_reason"] = k.stop_reason;
    kj["profile_seconds"] = k.profile_seconds;
    json pts = json::array();
    for (const auto& p : k.points)
      pts.push_back({{"features", p.features},
                     {"variant", p.variant},
                     {"measured", p.measured},
                     {"derived", p.derived},
                     {"variance", p.variance},
                     {"drift", p.drift},
                     {"feed", p.feed},
                     {"cv", p.cv},
                     {"seconds", p.seconds},
                     {"flops", p.flops}});
    kj["measurements"] = pts;
    kj["model"] = k.model.fitted() ? k.model.to_json() : json();
    kinds_json.push_back(kj);
  }
  j["kinds"] = kinds_json;
  return j;
}

namespace {

BlockRole role_from(const std::string& s, const std::string& where) {
  if (s == "input") return BlockRole::input;
  if (s == "hidden") return BlockRole::hidden;
  if (s == "output") return BlockRole::output;
  throw InputError(where + ": role '" + s + "' is not input, hidden or output");
}

EnergyKind kind_from(const std::string& s, const std::string& where) {
  if (s == "measured") return EnergyKind::measured;
  if (s == "modelled") return EnergyKind::modelled;
  if (s == "simulated") return EnergyKind::simulated;
  throw InputError(where + ": kind '" + s + "' is not measured, modelled or simulated");
}

ProfileSettings settings_from_json(const json& s, const std::string& where) {
  ProfileSettings out;
  out.cpu_model = s.at("cpu_model").get<std::string>();
  out.cores = s.at("cores").get<int>();
  out.gpu = s.at("gpu").get<std::string>();
  out.meter = s.at("meter").get<std::string>();
  out.kind = kind_from(s.at("kind").get<std::string>(), where);
  out.torch_version = s.at("torch_version").get<std::string>();
  out.device = s.at("device").get<std::string>();
  out.threads = s.at("threads").get<int>();
  out.flush_denormal = s.at("flush_denormal").get<bool>();
  out.iterations = s.at("iterations").get<int64_t>();
  out.repeats = s.at("repeats").get<int>();
  out.warmup = s.at("warmup").get<int64_t>();
  out.min_window_seconds = s.at("min_window_seconds").get<double>();
  out.min_warmup_seconds = s.at("min_warmup_seconds").get<double>();
  out.static_watts = s.at("static_watts").get<double>();
  out.core_watts = s.at("core_watts").get<double>();
  out.data = s.at("data").get<std::string>();
  out.optimizer = s.at("optimizer").get<std::string>();
  out.lr = s.at("lr").get<double>();
  out.momentum = s.at("momentum").get<double>();
  out.weight_decay = s.at("weight_decay").get<double>();
  return out;
}

// One entry of "kinds"; `at` is its key path and grows to ".model".
KindModel kind_from_json(const json& kj, const std::string& where, std::string& at) {
  KindModel k;
  k.key = kj.at("key").get<std::string>();
  k.role = role_from(kj.at("role").get<std::string>(), where + ": " + at);
  k.lower = kj.at("lower").get<std::vector<int64_t>>();
  k.upper = kj.at("upper").get<std::vector<int64_t>>();
  k.stop_reason = kj.value("stop_reason", "");
  k.profile_seconds = kj.value("profile_seconds", 0.0);
  for (const auto& pj : kj.at("measurements")) {
    RawMeasurement m;
    m.features = pj.at("features").get<std::vector<double>>();
    m.variant = pj.at("variant").get<std::string>();
    m.measured = pj.at("measured").get<double>();
    m.derived = pj.at("derived").get<double>();
    m.variance = pj.at("variance").get<double>();
    m.drift = pj.at("drift").get<double>();
    m.feed = pj.at("feed").get<std::string>();
    m.cv = pj.at("cv").get<double>();
    m.seconds = pj.at("seconds").get<double>();
    m.flops = pj.at("flops").get<double>();
    k.points.push_back(std::move(m));
  }
  const std::string kind_at = at;
  at += ".model";
  if (!kj.at("model").is_null()) k.model = LayerModel::from_json(kj.at("model"), where + ": " + at);
  // The estimator asks a kind for its role's features (split_blocks names
  // the role first in the key): a file where these disagree cannot be used.
  const size_t n = kind_traits(k.role, k.key).features;
  bool fits = k.key.rfind(to_string(k.role) + ":", 0) == 0 && k.lower.size() == n &&
              k.upper.size() == n && (!k.model.fitted() || k.model.dims() == static_cast<int>(n));
  for (const auto& m : k.points) fits = fits && m.features.size() == n;
  if (!fits)
    throw InputError(where + ": key '" + kind_at + "': kind '" + k.key + "' is not a " +
                     to_string(k.role) + " kind; expected its key to start with '" +
                     to_string(k.role) + ":' and " + std::to_string(n) +
                     "-D bounds, measurements and model");
  return k;
}

}  // namespace

DeviceProfile DeviceProfile::from_json(const json& j, const std::string& where) {
  DeviceProfile p;
  std::string at = "schema_version";
  try {
    if (!j.is_object())
      throw InputError(where + ": expected a JSON object (a thor device profile)");
    const int version = j.at("schema_version").get<int>();
    if (version < kSchemaVersion)
      throw InputError(
          where + ": schema_version " + std::to_string(version) +
          " was written by an older thor, before layer models with per-point noise, drift and "
          "additivity checks (schema_version " +
          std::to_string(kSchemaVersion) +
          "); profile the device again (delete the file, or run `profile`)");
    if (version != kSchemaVersion)
      throw InputError(where + ": schema_version " + std::to_string(version) +
                       " is not supported (expected " + std::to_string(kSchemaVersion) + ")");
    at = "settings";
    p.settings = settings_from_json(j.at("settings"), where);
    at = "flops_baseline";
    p.flops.a = j.at("flops_baseline").at("a").get<double>();
    p.flops.b = j.at("flops_baseline").at("b").get<double>();
    p.flops.fitted = j.at("flops_baseline").at("fitted").get<bool>();
    p.profile_seconds = j.value("profile_seconds", 0.0);
    at = "reference";
    const json& r = j.at("reference");
    p.reference.joules_per_iteration = r.at("joules_per_iteration").get<double>();
    p.reference.end_joules_per_iteration = r.at("end_joules_per_iteration").get<double>();
    p.reference.cv = r.at("cv").get<double>();
    at = "anchors";
    for (const auto& a : j.at("anchors"))
      p.anchors.push_back({a.at("architecture").get<std::string>(),
                           a.at("structure").get<std::string>(), a.at("measured").get<double>(),
                           a.at("variance").get<double>(), a.at("estimated").get<double>(),
                           a.at("estimated_variance").get<double>()});
    at = "additivity";
    p.additivity.scale = j.at("additivity").at("scale").get<double>();
    p.additivity.relative_std = j.at("additivity").at("relative_std").get<double>();
    p.additivity.anchors = j.at("additivity").at("anchors").get<int>();
    if (!(p.additivity.scale > 0.0) || !(p.additivity.relative_std >= 0.0))
      throw InputError(where + ": key 'additivity': scale must be > 0 and relative_std >= 0");
    // Per-structure corrections are derived from the anchors, not stored.
    std::map<std::string, std::vector<Anchor>> by_structure;
    for (const auto& a : p.anchors) by_structure[a.structure].push_back(a);
    for (const auto& [key, list] : by_structure)
      if (list.size() >= 2) p.structure_additivity[key] = fit_additivity(list);
    at = "kinds";
    const json& kinds = j.at("kinds");
    for (size_t i = 0; i < kinds.size(); ++i) {
      at = "kinds[" + std::to_string(i) + "]";
      const json& kj = kinds.at(i);
      KindModel k = kind_from_json(kj, where, at);
      p.kinds.emplace(k.key, std::move(k));
    }
  } catch (const json::exception& e) {
    throw InputError(where + ": key '" + at + "': " + e.what());
  } catch (const InputError& e) {
    const std::string msg = e.what();
    if (msg.rfind(where, 0) == 0) throw;
    throw InputError(where + ": key '" + at + "': " + msg);
  }
  return p;
}

void DeviceProfile::save(const std::string& path) const {
  write_file_atomic(path, to_json().dump(1) + "\n");
}

DeviceProfile DeviceProfile::load(const std::string& path) {
  const std::string text = read_file(path);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    throw InputError(path + ": not valid JSON (corrupt or truncated?): " + e.what());
  }
  return from_json(j, path);
}

std::string structure_key(const std::vector<LayerBlock>& blocks) {
  std::string key;
  for (const auto& b : blocks) key += (key.empty() ? "" : " | ") + b.key;
  return key;
}

std::string structure_key(const Architecture& arch) { return structure_key(split_blocks(arch)); }

const AdditivityCorrection& DeviceProfile::additivity_for(const std::string& structure) const {
  auto it = structure_additivity.find(structure);
  return it != structure_additivity.end() ? it->second : additivity;
}

AdditivityCorrection fit_additivity(const std::vector<Anchor>& anchors) {
  std::vector<double> q, qvar;
  for (const auto& a : anchors)
    if (a.estimated > 0 && a.measured > 0) {
      q.push_back(a.measured / a.estimated);
      // Only the anchors' own measurement noise can explain a ratio away:
      // the block models' error is what the correction is for.
      qvar.push_back(a.variance / (a.measured * a.measured));
    }
  AdditivityCorrection c;
  c.anchors = static_cast<int>(q.size());
  if (q.size() < 2) return c;
  const double n = static_cast<double>(q.size());
  const double qm = std::accumulate(q.begin(), q.end(), 0.0) / n;
  double s2 = 0.0;
  for (double x : q) s2 += (x - qm) * (x - qm);
  s2 /= n - 1.0;
  const double noise = std::accumulate(qvar.begin(), qvar.end(), 0.0) / n;
  const double se2 = (s2 + noise) / n;
  const double shift = qm - 1.0;
  c.scale = 1.0 + (shift == 0.0 ? 0.0 : shift * std::max(0.0, 1.0 - se2 / (shift * shift)));
  c.relative_std = std::sqrt(std::max(0.0, s2 - noise) + se2);
  return c;
}

FlopsBaseline fit_flops_baseline(const DeviceProfile& profile) {
  std::vector<double> x, y;
  for (const auto& [key, k] : profile.kinds)
    for (const auto& p : k.points) {
      x.push_back(p.flops);
      y.push_back(p.measured);
    }
  FlopsBaseline b;
  if (x.size() < 2) return b;
  Eigen::MatrixXd A(x.size(), 2);
  Eigen::VectorXd Y(y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    A(i, 0) = x[i] * 1e-9;  // scaled for conditioning
    A(i, 1) = 1.0;
    Y(i) = y[i];
  }
  const Eigen::Vector2d coef = A.colPivHouseholderQr().solve(Y);
  b.a = coef(0) * 1e-9;
  b.b = coef(1);
  b.fitted = true;
  return b;
}

}  // namespace thor
