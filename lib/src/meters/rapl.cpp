// rapl: Intel/AMD RAPL package energy through the powercap sysfs interface.
//
// Zones counted: the top-level package zones `intel-rapl:N` only. Sub-zones
// `intel-rapl:N:M` (core, uncore, dram) are parts of, or beside, their
// package and would be counted twice; `intel-rapl-mmio:N` exposes the same
// package through MMIO (power limits) and would double the package; a
// top-level zone named "psys" (platform, Skylake+) already contains the
// packages. AMD (Zen, Linux >= 5.8) uses the same intel-rapl names.
//
// Wrap-around: `energy_uj` runs from 0 to `max_energy_range_uj` and then
// starts again at 0, so the counter is taken modulo (max_energy_range_uj + 1):
//   delta = end >= start ? end - start : end + (max + 1 - start).
// The kernel derives max from a 32-bit hardware counter times the energy
// unit, so the true modulus is max + one unit (~15-61 uJ); the +1 uJ choice
// is off by less than one unit per wrap, far below the counter's accuracy.
// A wrap takes minutes (262 kJ at 200 W is ~22 min), so a background thread
// reads every counter every second and accumulates deltas; a window of any
// length is then counted right as long as no counter wraps twice in 1 s.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <regex>
#include <stdexcept>

#include "builtin.hpp"
#include "sampler.hpp"
#include "sysfs.hpp"
#include "thor/format.hpp"

namespace thor::meters_detail {
namespace {

constexpr const char* kPowercap = "/sys/class/powercap";
constexpr double kRaplSamplePeriodS = 1.0;

struct RaplZone {
  std::string dir;          // e.g. <root>/sys/class/powercap/intel-rapl:0
  std::string label;        // its `name`, e.g. package-0
  std::string energy_path;  // dir + /energy_uj
  std::uint64_t range = 0;  // max_energy_range_uj
  std::uint64_t last = 0;   // last counter value read
  std::uint64_t total_uj = 0;
};

std::string permission_hint(const std::string& path) {
  return "RAPL energy_uj is readable only by root since Linux 5.10: run as root, or `sudo chmod "
         "o+r " +
         path +
         "` (until reboot), or give a group read access with a udev rule (docs/meters.md), or "
         "use --meter cpu-model (modelled, no sensor needed)";
}

class RaplMeter final : public EnergyMeter {
 public:
  explicit RaplMeter(const MeterOptions& options) {
    const std::string base = under_root(options.resolved_sysfs_root(), kPowercap);
    static const std::regex package_zone(R"(intel-rapl:\d+)");
    std::vector<std::string> skipped;
    for (const auto& entry : list_dir(base)) {
      if (!std::regex_match(entry, package_zone)) continue;
      RaplZone z;
      z.dir = base + "/" + entry;
      z.energy_path = z.dir + "/energy_uj";
      try {
        z.label = read_text(z.dir + "/name");
      } catch (const SensorError&) {
        z.label = entry;
      }
      if (z.label == "psys") {  // platform domain: contains the packages
        skipped.push_back(entry + " (psys)");
        continue;
      }
      if (!exists(z.energy_path) && !std::filesystem::is_symlink(z.energy_path)) {
        skipped.push_back(entry + " (no energy_uj)");
        continue;
      }
      z.range = read_uint(z.dir + "/max_energy_range_uj");
      if (z.range == 0)
        throw SensorError(z.dir + "/max_energy_range_uj: is 0; cannot handle counter wrap-around");
      zones_.push_back(std::move(z));
    }
    if (zones_.empty()) {
      std::string msg = "rapl: no RAPL package zone (intel-rapl:N with energy_uj) under " + base;
      if (!skipped.empty()) {
        msg += "; skipped:";
        for (const auto& s : skipped) msg += " " + s;
      }
      msg +=
          "; this machine has no RAPL powercap interface (VM, non-x86, or the intel_rapl_common "
          "module is not loaded)";
      throw SensorError(msg);
    }
  }

  // The sampling thread uses the members below sampler_: join it first.
  ~RaplMeter() override { sampler_.cancel(); }

  std::string name() const override { return "rapl"; }
  EnergyKind kind() const override { return EnergyKind::measured; }
  std::string describe() const override {
    std::string s = "rapl: ";
    for (std::size_t i = 0; i < zones_.size(); ++i) {
      if (i) s += " + ";
      s += zones_[i].label + " (" + zones_[i].energy_path + ")";
    }
    return s + ", sampled every " + number(kRaplSamplePeriodS) + " s";
  }

  void start() override {
    sampler_.cancel();  // a window left open is dropped
    first_ = true;
    sampler_.start(kRaplSamplePeriodS, [this](PeriodicSampler::Clock::time_point t) { tick(t); });
  }

  EnergyReading stop() override {
    if (!sampler_.running()) throw std::logic_error("rapl: stop() without start()");
    sampler_.stop();
    EnergyReading r;
    std::uint64_t uj = 0;
    for (const auto& z : zones_) uj += z.total_uj;
    r.joules = static_cast<double>(uj) * 1e-6;
    r.seconds = std::chrono::duration<double>(t_end_ - t_start_).count();
    r.kind = EnergyKind::measured;
    return r;
  }

 private:
  void tick(PeriodicSampler::Clock::time_point t) {
    // Read all counters first so that a failing read leaves the totals alone.
    std::vector<std::uint64_t> now(zones_.size());
    for (std::size_t i = 0; i < zones_.size(); ++i)
      now[i] = read_uint(zones_[i].energy_path, permission_hint(zones_[i].energy_path));
    for (std::size_t i = 0; i < zones_.size(); ++i) {
      RaplZone& z = zones_[i];
      if (first_) {
        z.total_uj = 0;
      } else if (now[i] >= z.last) {
        z.total_uj += now[i] - z.last;
      } else {
        z.total_uj += now[i] + (z.range + 1 - std::min(z.last, z.range));
      }
      z.last = now[i];
    }
    if (first_) t_start_ = t;
    t_end_ = t;
    first_ = false;
  }

  std::vector<RaplZone> zones_;
  PeriodicSampler sampler_;
  bool first_ = true;
  PeriodicSampler::Clock::time_point t_start_, t_end_;
};

}  // namespace

std::unique_ptr<EnergyMeter> make_rapl_meter(const MeterOptions& options) {
  return std::make_unique<RaplMeter>(options);
}

}  // namespace thor::meters_detail
