// The meter registry and `auto` selection.
#include <cstdlib>
#include <iostream>
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
  const FieldRules f("meter");
  f.number("static_watts", static_watts, 0.0, 1e4);
  f.number("core_watts", core_watts, 1e-6, 1e4);
  f.number("sample_period_s", sample_period_s, 1e-4, 10.0);
  f.count("gpu_index", gpu_index, 0, 64);
  f.require(sim_noise >= 0.0 && sim_noise < 1.0, "sim_noise", value_text(sim_noise),
            "expected 0 <= sim_noise < 1");
}

std::string MeterOptions::resolved_sysfs_root() const {
  if (!sysfs_root.empty()) return sysfs_root;
  const char* env = std::getenv("THOR_SYSFS_ROOT");
  return (env && *env) ? std::string(env) : std::string("/");
}

Registry<MeterFactory>& meter_registry() {
  static Registry<MeterFactory> registry("meter", [] {
    using namespace meters_detail;
    return Registry<MeterFactory>::Entries{{"rapl", make_rapl_meter},
                                           {"nvml", make_nvml_meter},
                                           {"jetson", make_jetson_meter},
                                           {"battery", make_battery_meter},
                                           {"cpu-model", make_cpu_model_meter}};
  });
  return registry;
}

std::unique_ptr<EnergyMeter> make_meter(const std::string& name, const MeterOptions& options) {
  options.validate();
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
  if (!meter_registry().contains(name))
    throw InputError("meter '" + name + "': unknown; known meters: auto, " +
                     meter_registry().known());
  const MeterFactory factory = meter_registry().get(name);
  return factory(options);
}

}  // namespace thor
