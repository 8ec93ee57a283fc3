// cpu-model: a modelled meter for machines without sensors.
//   E = static_watts * t_wall + core_watts * t_cpu
// t_cpu is this process's CPU time (all its threads, CLOCK_PROCESS_CPUTIME_ID)
// over the window, so a window spent on 4 busy threads costs 4 cores, plus the
// CPU time of child processes reaped inside the window (getrusage
// RUSAGE_CHILDREN), so that `measure -- COMMAND` charges the command.
#include <sys/resource.h>
#include <time.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "builtin.hpp"
#include "thor/format.hpp"

namespace thor::meters_detail {
namespace {

double process_cpu_seconds() {
  timespec ts{};
  if (::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
    throw SensorError(std::string("cpu-model: clock_gettime(CLOCK_PROCESS_CPUTIME_ID): ") +
                      std::strerror(errno));
  double seconds = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  rusage children{};
  if (::getrusage(RUSAGE_CHILDREN, &children) == 0)
    seconds += static_cast<double>(children.ru_utime.tv_sec + children.ru_stime.tv_sec) +
               static_cast<double>(children.ru_utime.tv_usec + children.ru_stime.tv_usec) * 1e-6;
  return seconds;
}

class CpuModelMeter final : public EnergyMeter {
 public:
  explicit CpuModelMeter(const MeterOptions& options)
      : static_watts_(options.static_watts), core_watts_(options.core_watts) {}

  std::string name() const override { return "cpu-model"; }
  EnergyKind kind() const override { return EnergyKind::modelled; }
  std::string describe() const override {
    return "cpu-model (modelled): E = " + number(static_watts_) + " W x wall s + " +
           number(core_watts_) + " W x process CPU s";
  }

  void start() override {
    cpu0_ = process_cpu_seconds();
    wall0_ = std::chrono::steady_clock::now();
    open_ = true;
  }

  EnergyReading stop() override {
    if (!open_) throw std::logic_error("cpu-model: stop() without start()");
    const auto wall1 = std::chrono::steady_clock::now();
    const double cpu1 = process_cpu_seconds();
    open_ = false;
    EnergyReading r;
    r.seconds = std::chrono::duration<double>(wall1 - wall0_).count();
    const double cpu = cpu1 - cpu0_;
    r.joules = static_watts_ * r.seconds + core_watts_ * cpu;
    r.kind = EnergyKind::modelled;
    return r;
  }

 private:
  double static_watts_;
  double core_watts_;
  double cpu0_ = 0.0;
  std::chrono::steady_clock::time_point wall0_;
  bool open_ = false;
};

}  // namespace

std::unique_ptr<EnergyMeter> make_cpu_model_meter(const MeterOptions& options) {
  return std::make_unique<CpuModelMeter>(options);
}

}  // namespace thor::meters_detail
