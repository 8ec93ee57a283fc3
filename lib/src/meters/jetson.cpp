// jetson: NVIDIA Jetson INA3221 power monitors, sampled and integrated.
//
// Two sysfs layouts:
//  - JetPack 4 (ina3221x iio driver):
//      /sys/bus/i2c/drivers/ina3221x/<bus-addr>/iio:device<K>/rail_name_<N>
//      .../in_power<N>_input                      power in mW
//  - JetPack 5+ (mainline ina3221 hwmon driver):
//      /sys/bus/i2c/drivers/ina3221/<bus-addr>/hwmon/hwmon<K>/in<N>_label
//      .../in<N>_input (bus voltage, mV) and curr<N>_input (current, mA)
//      P = mV * mA / 1e6 W
// Rails are found in natural order of their paths. The rail is chosen by
// label (case-insensitive); by default the board input rail: first an exact
// "VDD_IN" (TX2, Xavier NX, Orin NX/Nano), "POM_5V_IN" (Nano) or
// "VIN_SYS_5V0" (AGX Orin), else the first label containing "IN" and either
// "VDD" or "5V". AGX Xavier has no input rail (GPU, CPU, SOC, CV, VDDRQ,
// SYS5V); there the rail must be named.
#include <algorithm>
#include <cctype>

#include "builtin.hpp"
#include "sampler.hpp"
#include "sysfs.hpp"
#include "thor/format.hpp"

namespace thor::meters_detail {
namespace {

struct Rail {
  std::string label;
  bool hwmon = false;      // false: iio power file (mW); true: hwmon mV and mA files
  std::string power_path;  // iio
  std::string volt_path;   // hwmon
  std::string curr_path;   // hwmon
};

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Channel numbers N for files "<prefix>N<suffix>" in a folder.
std::vector<int> channels(const std::string& dir, const std::string& prefix,
                          const std::string& suffix) {
  std::vector<int> out;
  for (const auto& f : list_dir(dir, /*only_dirs=*/false)) {
    if (f.size() <= prefix.size() + suffix.size() || !starts_with(f, prefix) ||
        f.compare(f.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string mid = f.substr(prefix.size(), f.size() - prefix.size() - suffix.size());
    if (!std::all_of(mid.begin(), mid.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      continue;
    out.push_back(std::stoi(mid));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Rail> find_rails(const std::string& root) {
  std::vector<Rail> rails;
  // JetPack 4: iio devices of the ina3221x driver.
  const std::string jp4 = under_root(root, "/sys/bus/i2c/drivers/ina3221x");
  for (const auto& dev : list_dir(jp4)) {
    for (const auto& iio : list_dir(jp4 + "/" + dev)) {
      if (!starts_with(iio, "iio:device")) continue;
      const std::string dir = jp4 + "/" + dev + "/" + iio;
      for (int n : channels(dir, "rail_name_", "")) {
        Rail r;
        r.label = read_text(dir + "/rail_name_" + std::to_string(n));
        r.power_path = dir + "/in_power" + std::to_string(n) + "_input";
        if (exists(r.power_path)) rails.push_back(std::move(r));
      }
    }
  }
  // JetPack 5+: hwmon devices of the ina3221 driver.
  const std::string jp5 = under_root(root, "/sys/bus/i2c/drivers/ina3221");
  for (const auto& dev : list_dir(jp5)) {
    const std::string hw = jp5 + "/" + dev + "/hwmon";
    for (const auto& h : list_dir(hw)) {
      if (!starts_with(h, "hwmon")) continue;
      const std::string dir = hw + "/" + h;
      for (int n : channels(dir, "in", "_label")) {
        Rail r;
        r.hwmon = true;
        r.label = read_text(dir + "/in" + std::to_string(n) + "_label");
        r.volt_path = dir + "/in" + std::to_string(n) + "_input";
        r.curr_path = dir + "/curr" + std::to_string(n) + "_input";
        // "sum of shunt voltages" channels have a label but no current.
        if (exists(r.volt_path) && exists(r.curr_path)) rails.push_back(std::move(r));
      }
    }
  }
  return rails;
}

const Rail* default_rail(const std::vector<Rail>& rails) {
  for (const char* exact : {"VDD_IN", "POM_5V_IN", "VIN_SYS_5V0"})
    for (const auto& r : rails)
      if (upper(r.label) == exact) return &r;
  for (const auto& r : rails) {
    const std::string u = upper(r.label);
    if (u.find("IN") != std::string::npos &&
        (u.find("VDD") != std::string::npos || u.find("5V") != std::string::npos))
      return &r;
  }
  return nullptr;
}

std::string rail_list(const std::vector<Rail>& rails) {
  std::string s;
  for (const auto& r : rails) s += (s.empty() ? "" : ", ") + r.label;
  return s;
}

class JetsonMeter final : public SampledPowerMeter {
 public:
  explicit JetsonMeter(const MeterOptions& options) : SampledPowerMeter(options.sample_period_s) {
    const std::string root = options.resolved_sysfs_root();
    const std::vector<Rail> rails = find_rails(root);
    if (rails.empty())
      throw SensorError("jetson: no INA3221 rail under " +
                        under_root(root, "/sys/bus/i2c/drivers/ina3221x") + " (JetPack 4) or " +
                        under_root(root, "/sys/bus/i2c/drivers/ina3221") +
                        " (JetPack 5+); this is not a Jetson board");
    const Rail* chosen = nullptr;
    if (options.jetson_rail.empty()) {
      chosen = default_rail(rails);
      if (!chosen)
        throw SensorError("jetson: no board input rail (VDD_IN, POM_5V_IN, ...) among: " +
                          rail_list(rails) + "; choose one with jetson_rail");
    } else {
      for (const auto& r : rails)
        if (upper(r.label) == upper(options.jetson_rail)) {
          chosen = &r;
          break;
        }
      if (!chosen)
        throw SensorError("jetson: jetson_rail = '" + options.jetson_rail +
                          "' is not a rail of this board; rails: " + rail_list(rails));
    }
    rail_ = *chosen;
  }

  ~JetsonMeter() override { stop_sampling(); }

  std::string name() const override { return "jetson"; }
  std::string describe() const override {
    std::string s = "jetson: rail " + rail_.label + " (";
    s += rail_.hwmon ? rail_.volt_path + " mV x " + rail_.curr_path + " mA"
                     : rail_.power_path + " mW";
    return s + "), sampled every " + number(period_s()) + " s";
  }

 protected:
  double read_watts() override {
    if (!rail_.hwmon) return static_cast<double>(read_int(rail_.power_path)) * 1e-3;
    const double mv = static_cast<double>(read_int(rail_.volt_path));
    const double ma = static_cast<double>(read_int(rail_.curr_path));
    return mv * ma * 1e-6;
  }

 private:
  Rail rail_;
};

}  // namespace

std::unique_ptr<EnergyMeter> make_jetson_meter(const MeterOptions& options) {
  return std::make_unique<JetsonMeter>(options);
}

}  // namespace thor::meters_detail
