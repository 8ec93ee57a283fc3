#pragma once
// Internal to thor::meters: factories of the built-in meters, one per file.
#include <memory>

#include "thor/meter.hpp"

namespace thor::meters_detail {

std::unique_ptr<EnergyMeter> make_rapl_meter(const MeterOptions& options);
std::unique_ptr<EnergyMeter> make_nvml_meter(const MeterOptions& options);
std::unique_ptr<EnergyMeter> make_jetson_meter(const MeterOptions& options);
std::unique_ptr<EnergyMeter> make_battery_meter(const MeterOptions& options);
std::unique_ptr<EnergyMeter> make_cpu_model_meter(const MeterOptions& options);

/// Registers `factory` under `name` unless a meter of that name is already
/// registered (so a user's replacement registered earlier wins). In registry.cpp.
void register_meter_if_absent(const std::string& name, MeterFactory factory);

/// Formats watts/joules/seconds for describe() strings ("12.5").
std::string format_number(double v);

}  // namespace thor::meters_detail
