// battery: power drawn from a battery (Android phones, laptops), from
// /sys/class/power_supply/<name>/, sampled and integrated.
//
// Power: `power_now` (uW) when the entry has a readable one; else
// |current_now| x voltage_now. Quirks handled, decided once per window from
// the first sample so that units cannot flip mid-window:
//  - units: the ABI says uA and uV, some kernels report mA and/or mV.
//    voltage_now: |v| > 100000 means uV (a cell is >= 2.5 V = 2.5e6 uV), else
//    mV. current_now: |i| >= 10000 means uA (>= 10 mA), else mA (< 10 A). A
//    device computing draws far more than 10 mA and far less than 10 A, so
//    the two readings cannot be confused in practice.
//  - sign: discharge current is positive on some devices and negative on
//    others; the absolute value is used (and of power_now too).
// While the device charges, the battery current is charge, not consumption:
// measure unplugged (a warning is printed when `status` says Charging).
#include <cmath>
#include <iostream>

#include "builtin.hpp"
#include "sampler.hpp"
#include "sysfs.hpp"
#include "thor/format.hpp"

namespace thor::meters_detail {
namespace {

constexpr const char* kPowerSupply = "/sys/class/power_supply";

class BatteryMeter final : public SampledPowerMeter {
 public:
  explicit BatteryMeter(const MeterOptions& options) : SampledPowerMeter(options.sample_period_s) {
    const std::string base = under_root(options.resolved_sysfs_root(), kPowerSupply);
    std::vector<std::string> batteries;
    for (const auto& entry : list_dir(base)) {
      try {
        if (read_text(base + "/" + entry + "/type") == "Battery") batteries.push_back(entry);
      } catch (const SensorError&) {
        // no readable type: not a battery we can use
      }
    }
    if (batteries.empty())
      throw SensorError("battery: no power_supply of type Battery under " + base);
    if (options.battery_name.empty()) {
      name_ = batteries.front();
    } else {
      for (const auto& b : batteries)
        if (b == options.battery_name) name_ = b;
      if (name_.empty()) {
        std::string list;
        for (const auto& b : batteries) list += (list.empty() ? "" : ", ") + b;
        throw SensorError("battery: battery_name = '" + options.battery_name +
                          "' is not a battery under " + base + "; batteries: " + list);
      }
    }
    dir_ = base + "/" + name_;
    if (!exists(dir_ + "/power_now") &&
        !(exists(dir_ + "/current_now") && exists(dir_ + "/voltage_now")))
      throw SensorError("battery: " + dir_ +
                        " has neither power_now nor current_now and voltage_now");
    use_power_now_ = exists(dir_ + "/power_now");  // confirmed by prepare()
  }

  ~BatteryMeter() override { stop_sampling(); }

  std::string name() const override { return "battery"; }
  std::string describe() const override {
    std::string s = "battery: " + dir_ + " (";
    if (use_power_now_)
      s += "power_now uW";
    else if (!units_known_)
      s += "|current_now| x voltage_now, units detected at start";
    else
      s += std::string("|current_now| ") + (current_scale_ == 1e-6 ? "uA" : "mA") +
           " x voltage_now " + (voltage_scale_ == 1e-6 ? "uV" : "mV");
    return s + "), sampled every " + number(period_s()) + " s";
  }

 protected:
  void prepare() override {
    try {
      const std::string status = read_text(dir_ + "/status");
      if (status == "Charging")
        std::cerr << "thor: warning: battery " << name_
                  << " is charging; its current is charge, not consumption: unplug to measure\n";
    } catch (const SensorError&) {
    }
    use_power_now_ = false;
    if (exists(dir_ + "/power_now")) {
      try {
        read_int(dir_ + "/power_now");
        use_power_now_ = true;
      } catch (const SensorError&) {
        // Some drivers expose power_now but fail to read it (ENODATA): fall back.
        if (!exists(dir_ + "/current_now")) throw;
      }
    }
    if (!use_power_now_) {
      const double v = std::fabs(static_cast<double>(read_int(dir_ + "/voltage_now")));
      const double i = std::fabs(static_cast<double>(read_int(dir_ + "/current_now")));
      voltage_scale_ = v > 100000.0 ? 1e-6 : 1e-3;
      current_scale_ = i >= 10000.0 ? 1e-6 : 1e-3;
      units_known_ = true;
    }
  }

  double read_watts() override {
    if (use_power_now_) return std::fabs(static_cast<double>(read_int(dir_ + "/power_now"))) * 1e-6;
    const double v = static_cast<double>(read_int(dir_ + "/voltage_now")) * voltage_scale_;
    const double i = static_cast<double>(read_int(dir_ + "/current_now")) * current_scale_;
    return std::fabs(v * i);
  }

 private:
  std::string name_;
  std::string dir_;
  bool use_power_now_ = false;
  bool units_known_ = false;
  double voltage_scale_ = 1e-6;
  double current_scale_ = 1e-6;
};

}  // namespace

std::unique_ptr<EnergyMeter> make_battery_meter(const MeterOptions& options) {
  return std::make_unique<BatteryMeter>(options);
}

}  // namespace thor::meters_detail
