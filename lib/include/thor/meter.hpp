#pragma once
/// \file
/// Energy meters: one interface for every way of getting joules over a
/// window of time, a registry of meters by name, and `auto` selection.
///
/// Real sensors (rapl, nvml, jetson, battery) report `measured` energy.
/// `cpu-model` turns wall and process CPU time into joules with constants
/// from the recipe and reports `modelled`. `sim` is a deterministic
/// synthetic device for algorithm tests only; `auto` never picks it.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "thor/error.hpp"
#include "thor/registry.hpp"

namespace thor {

struct Architecture;
struct FeedStats;

/// Where a figure came from; every report carries it.
enum class EnergyKind { measured, modelled, simulated };

/// "measured", "modelled" or "simulated".
std::string to_string(EnergyKind kind);

/// Joules and wall seconds over one meter window.
struct EnergyReading {
  double joules = 0.0;
  double seconds = 0.0;
  EnergyKind kind = EnergyKind::measured;
};

/// What runs inside a window. Real meters ignore it; `sim` computes its
/// synthetic energy from it.
struct Workload {
  const Architecture* architecture = nullptr;  ///< the network being trained, if any
  long iterations = 0;                         ///< training iterations inside the window
  /// The training loop's feed counters (read at start and stop), if any.
  const FeedStats* feed = nullptr;
};

/// Settings of every built-in meter; each meter reads the fields it needs.
struct MeterOptions {
  /// Prefix of every sysfs path; tests point it at a fake tree.
  /// Empty means: $THOR_SYSFS_ROOT if set, else "/".
  std::string sysfs_root;
  /// cpu-model: watts drawn whenever the process runs (idle + uncore share).
  double static_watts = 3.0;
  /// cpu-model: watts per fully busy core (multiplies process CPU seconds).
  double core_watts = 12.0;
  /// jetson: rail to read, by its label; empty means the board input rail.
  std::string jetson_rail;
  /// battery: power_supply entry name; empty means the first battery found.
  std::string battery_name;
  /// Sampling meters (jetson, battery): seconds between samples.
  double sample_period_s = 0.02;
  /// nvml: GPU index and the library to dlopen.
  int gpu_index = 0;
  std::string nvml_library = "libnvidia-ml.so.1";
  /// sim: relative std of the deterministic noise added to each reading.
  double sim_noise = 0.0;
  /// sim: seed of that noise.
  unsigned long sim_seed = 1;
  /// sim: how strongly the energy follows the data fed: joules are scaled by
  /// 1 + sim_data_weight·(mean input − 0.5) over the window's batches. 0 (the
  /// default) makes sim independent of the data; tests set it to show that
  /// two loops fed the same way cost the same.
  double sim_data_weight = 0.0;

  /// Throws InputError naming the field, its value and the rule.
  void validate() const;
  /// sysfs_root with the default applied.
  std::string resolved_sysfs_root() const;
};

/// A source of joules over a window. Not thread-safe; one window at a time.
class EnergyMeter {
 public:
  EnergyMeter() = default;
  virtual ~EnergyMeter() = default;
  EnergyMeter(const EnergyMeter&) = delete;
  EnergyMeter& operator=(const EnergyMeter&) = delete;

  /// The registry name ("rapl", "cpu-model", ...).
  virtual std::string name() const = 0;
  /// Whether figures are measured, modelled or simulated.
  virtual EnergyKind kind() const = 0;
  /// Human description of the sensor (zones, rail, GPU name) for reports.
  virtual std::string describe() const { return name(); }
  /// Tells the meter what the next window runs; default: ignored.
  virtual void set_workload(const Workload&) {}
  /// Opens a window. Throws SensorError if the sensor cannot be read.
  virtual void start() = 0;
  /// Closes the window opened by start() and returns its energy and time.
  virtual EnergyReading stop() = 0;
};

using MeterFactory = std::function<std::unique_ptr<EnergyMeter>(const MeterOptions&)>;

/// The meters by name: rapl, nvml, jetson, battery and cpu-model are built
/// in; add your own with meter_registry().add(name, factory).
Registry<MeterFactory>& meter_registry();
/// Builds a meter by name; "auto" tries rapl, nvml, jetson, battery in that
/// order and falls back to cpu-model with a warning on stderr.
/// Throws InputError for an unknown name, SensorError for an unreadable sensor.
std::unique_ptr<EnergyMeter> make_meter(const std::string& name, const MeterOptions& options);

}  // namespace thor
