// The meter registry and `auto` selection.
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>

#include "builtin.hpp"
#include "thor/meter.hpp"

namespace thor {

std::string to_string(EnergyKind kind) {
  switch (kind) {
    case EnergyKind::measured:
      return "measured";
    case EnergyKind::modelled:
      return "modelled";
    case EnergyKind::simulated:
      return "simulated";
  }
  return "unknown";
}

void MeterOptions::validate() const {
  auto positive = [](const char* field, double v) {
    if (!(v > 0.0))
      throw InputError(std::string("meter options: ") + field + " = " + std::to_string(v) +
                       " must be > 0");
  };
  if (!(static_watts >= 0.0))
    throw InputError("meter options: static_watts = " + std::to_string(static_watts) +
                     " must be >= 0");
  positive("core_watts", core_watts);
  positive("sample_period_s", sample_period_s);
  if (gpu_index < 0)
    throw InputError("meter options: gpu_index = " + std::to_string(gpu_index) + " must be >= 0");
  if (!(sim_noise >= 0.0 && sim_noise < 1.0))
    throw InputError("meter options: sim_noise = " + std::to_string(sim_noise) +
                     " must be in [0, 1)");
}

std::string MeterOptions::resolved_sysfs_root() const {
  if (!sysfs_root.empty()) return sysfs_root;
  const char* env = std::getenv("THOR_SYSFS_ROOT");
  return (env && *env) ? std::string(env) : std::string("/");
}

namespace {
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, MeterFactory>& registry() {
  static std::map<std::string, MeterFactory> r;
  return r;
}
}  // namespace

void register_meter(const std::string& name, MeterFactory factory) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry()[name] = std::move(factory);
}

void register_builtin_meters() {
  static std::once_flag once;
  std::call_once(once, [] {
    using namespace meters_detail;
    register_meter_if_absent("rapl", make_rapl_meter);
    register_meter_if_absent("nvml", make_nvml_meter);
    register_meter_if_absent("jetson", make_jetson_meter);
    register_meter_if_absent("battery", make_battery_meter);
    register_meter_if_absent("cpu-model", make_cpu_model_meter);
  });
}

namespace meters_detail {
void register_meter_if_absent(const std::string& name, MeterFactory factory) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry().emplace(name, std::move(factory));
}

std::string format_number(double v) {
  std::ostringstream ss;
  ss << v;
  return ss.str();
}
}  // namespace meters_detail

std::vector<std::string> meter_names() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<std::string> names;
  for (const auto& [name, f] : registry()) names.push_back(name);
  return names;
}

std::unique_ptr<EnergyMeter> make_meter(const std::string& name, const MeterOptions& options) {
  options.validate();
  register_builtin_meters();
  if (name == "auto") {
    for (const char* candidate : {"rapl", "nvml", "jetson", "battery"}) {
      try {
        auto meter = make_meter(candidate, options);
        meter->start();  // prove it can be read, then discard the window
        meter->stop();
        return meter;
      } catch (const std::exception&) {
        // Not present or not readable here: try the next one.
      }
    }
    std::cerr << "thor: warning: no readable energy sensor found (rapl, nvml, jetson, battery); "
                 "using the cpu-model meter, whose figures are modelled, not measured\n";
    return make_meter("cpu-model", options);
  }
  MeterFactory factory;
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    auto it = registry().find(name);
    if (it != registry().end()) factory = it->second;
  }
  if (!factory) {
    std::string known;
    for (const auto& n : meter_names()) known += (known.empty() ? "" : ", ") + n;
    throw InputError("meter '" + name + "': unknown; known meters: auto, " + known);
  }
  return factory(options);
}

}  // namespace thor
