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

}  // namespace thor::meters_detail
