// cpu-model, nvml, and the registry with `auto`.
#include <doctest/doctest.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

#include "fake_sysfs.hpp"
#include "thor/meter.hpp"

using thor::test::FakeSysfs;

namespace {

double cpu_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Redirects std::cerr for its lifetime.
class CaptureCerr {
 public:
  CaptureCerr() : old_(std::cerr.rdbuf(buf_.rdbuf())) {}
  ~CaptureCerr() { std::cerr.rdbuf(old_); }
  std::string text() const { return buf_.str(); }

 private:
  std::ostringstream buf_;
  std::streambuf* old_;
};

}  // namespace

TEST_CASE("cpu-model: static x wall + core x process CPU time") {
  thor::MeterOptions opts;
  opts.static_watts = 2.5;
  opts.core_watts = 10.0;
  auto meter = thor::make_meter("cpu-model", opts);
  CHECK(meter->kind() == thor::EnergyKind::modelled);
  CHECK(meter->describe().find("2.5 W") != std::string::npos);
  CHECK(meter->describe().find("10 W") != std::string::npos);

  // The meter's CPU time lies between what is measured just inside and just
  // outside its window.
  const double c1 = cpu_now();
  meter->start();
  const double c2 = cpu_now();
  volatile double sink = 0.0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  while (std::chrono::steady_clock::now() < until) sink = sink + 1.0;
  const double c3 = cpu_now();
  const auto r = meter->stop();
  const double c4 = cpu_now();

  CHECK(r.kind == thor::EnergyKind::modelled);
  CHECK(r.seconds >= 0.1);
  CHECK(r.seconds < 10.0);
  const double cpu_joules = r.joules - opts.static_watts * r.seconds;
  CHECK(cpu_joules >= opts.core_watts * (c3 - c2) - 1e-9);
  CHECK(cpu_joules <= opts.core_watts * (c4 - c1) + 1e-9);
  CHECK(c3 - c2 > 0.0);  // a busy loop burns CPU
}

TEST_CASE("nvml with a missing library throws SensorError, no crash") {
  thor::MeterOptions opts;
  opts.nvml_library = "/nonexistent/libnvidia-ml.so.1";
  try {
    thor::make_meter("nvml", opts);
    FAIL("make_meter should have thrown");
  } catch (const thor::SensorError& e) {
    const std::string msg = e.what();
    CHECK_MESSAGE(msg.find("/nonexistent/libnvidia-ml.so.1") != std::string::npos, msg);
  }
}

TEST_CASE("nvml on a real GPU (only with THOR_TEST_NVML=1)") {
  const char* flag = std::getenv("THOR_TEST_NVML");
  if (!flag || std::string(flag) != "1") {
    MESSAGE("skipped: set THOR_TEST_NVML=1 on a machine with an NVIDIA GPU");
    return;
  }
  auto meter = thor::make_meter("nvml", thor::MeterOptions{});
  MESSAGE(meter->describe());
  const auto r = [&] {
    meter->start();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    return meter->stop();
  }();
  MESSAGE("idle GPU: " << r.joules << " J in " << r.seconds << " s = " << r.joules / r.seconds
                       << " W");
  CHECK(r.kind == thor::EnergyKind::measured);
  CHECK(r.joules > 0.0);                 // an idle datacentre GPU draws tens of watts
  CHECK(r.joules / r.seconds < 2000.0);  // and no GPU draws kilowatts
}

TEST_CASE("registry: builtin names, concurrent first use, add-only, unknown names") {
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> seen(4);
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&seen, i] { seen[i] = thor::meter_registry().names(); });
  for (auto& t : threads) t.join();
  for (const auto& names : seen)
    for (const char* n : {"rapl", "nvml", "jetson", "battery", "cpu-model"})
      CHECK_MESSAGE(std::count(names.begin(), names.end(), n) == 1, n);
  // Add-only: a built-in name cannot be taken over by accident...
  auto mine = [](const thor::MeterOptions& o) { return thor::make_meter("cpu-model", o); };
  CHECK_THROWS_AS(thor::meter_registry().add("rapl", mine), std::invalid_argument);
  // ...only on purpose, and a user's name survives later lookups.
  thor::meter_registry().add("my-cpu-meter", mine);
  CHECK(thor::meter_registry().contains("my-cpu-meter"));
  CHECK(thor::make_meter("my-cpu-meter", thor::MeterOptions{})->name() == "cpu-model");
  CHECK_THROWS_AS(thor::meter_registry().add("my-cpu-meter", mine), std::invalid_argument);
  thor::meter_registry().replace("my-cpu-meter", mine);

  try {
    thor::make_meter("watt-o-meter", thor::MeterOptions{});
    FAIL("make_meter should have thrown");
  } catch (const thor::SensorError&) {
    FAIL("an unknown name is an input error, not a sensor error");
  } catch (const thor::InputError& e) {
    const std::string msg = e.what();
    CHECK_MESSAGE(msg.find("watt-o-meter") != std::string::npos, msg);
    CHECK_MESSAGE(msg.find("auto") != std::string::npos, msg);
    CHECK_MESSAGE(msg.find("cpu-model") != std::string::npos, msg);
    CHECK_MESSAGE(msg.find("rapl") != std::string::npos, msg);
  }
}

TEST_CASE("registry: options are validated") {
  thor::MeterOptions opts;
  opts.sample_period_s = 0.0;
  CHECK_THROWS_AS(thor::make_meter("cpu-model", opts), thor::InputError);
}

TEST_CASE("auto picks the first readable sensor, else cpu-model with a warning") {
  FakeSysfs fs;
  SUBCASE("an empty machine: cpu-model") {
    CaptureCerr err;
    auto meter = thor::make_meter("auto", fs.options());
    CHECK(meter->name() == "cpu-model");
    CHECK(meter->kind() == thor::EnergyKind::modelled);
    CHECK_MESSAGE(err.text().find("warning") != std::string::npos, err.text());
  }
  SUBCASE("a readable RAPL counter: rapl") {
    fs.write("/sys/class/powercap/intel-rapl:0/name", "package-0");
    fs.write("/sys/class/powercap/intel-rapl:0/energy_uj", 1);
    fs.write("/sys/class/powercap/intel-rapl:0/max_energy_range_uj", 1000);
    auto meter = thor::make_meter("auto", fs.options());
    CHECK(meter->name() == "rapl");
  }
  SUBCASE("an unreadable RAPL counter and a battery: battery") {
    fs.write("/sys/class/powercap/intel-rapl:0/name", "package-0");
    fs.mkdir("/sys/class/powercap/intel-rapl:0/energy_uj");
    fs.write("/sys/class/powercap/intel-rapl:0/max_energy_range_uj", 1000);
    fs.write("/sys/class/power_supply/battery/type", "Battery");
    fs.write("/sys/class/power_supply/battery/power_now", 3000000);
    auto meter = thor::make_meter("auto", fs.options());
    CHECK(meter->name() == "battery");
  }
}
