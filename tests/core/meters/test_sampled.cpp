// jetson and battery: power sensors sampled on a background thread and
// integrated. The fake sensors hold a constant power P, so a window of
// ~0.2 s must read P x its own duration (the trapezoid rule is exact for a
// constant; the tolerance only covers a scheduler hiccup).
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "fake_sysfs.hpp"
#include "thor/meter.hpp"

using thor::test::FakeSysfs;

namespace {

thor::EnergyReading window(thor::EnergyMeter& meter, double seconds = 0.2) {
  meter.start();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  return meter.stop();
}

void check_constant_power(thor::EnergyMeter& meter, double watts) {
  const auto r = window(meter);
  CHECK(r.kind == thor::EnergyKind::measured);
  CHECK(r.seconds > 0.15);
  CHECK(r.seconds < 10.0);
  CHECK_MESSAGE(r.joules == doctest::Approx(watts * r.seconds).epsilon(0.15),
                meter.describe() << ": " << r.joules << " J in " << r.seconds << " s");
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const thor::SensorError& e) {
    return e.what();
  }
  return "(no SensorError)";
}

// JetPack 4, Jetson Nano: one ina3221x at 6-0040, power in mW.
void jetpack4_nano(const FakeSysfs& fs) {
  const std::string dir = "/sys/bus/i2c/drivers/ina3221x/6-0040/iio:device0";
  const char* labels[] = {"POM_5V_IN", "POM_5V_GPU", "POM_5V_CPU"};
  const long mw[] = {5000, 1200, 800};
  for (int n = 0; n < 3; ++n) {
    fs.write(dir + "/rail_name_" + std::to_string(n), labels[n]);
    fs.write(dir + "/in_power" + std::to_string(n) + "_input", mw[n]);
    fs.write(dir + "/in_voltage" + std::to_string(n) + "_input", 5000);
    fs.write(dir + "/in_current" + std::to_string(n) + "_input", mw[n]);
  }
}

// JetPack 5, Orin NX: mainline ina3221 with hwmon, mV and mA per channel,
// plus the label-only "sum of shunt voltages" channel newer kernels add.
void jetpack5_orin(const FakeSysfs& fs) {
  const std::string dir = "/sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3";
  const char* labels[] = {"VDD_IN", "VDD_CPU_GPU_CV", "VDD_SOC"};
  const long mv[] = {5000, 5000, 5000};
  const long ma[] = {1400, 600, 300};
  for (int n = 1; n <= 3; ++n) {
    fs.write(dir + "/in" + std::to_string(n) + "_label", labels[n - 1]);
    fs.write(dir + "/in" + std::to_string(n) + "_input", mv[n - 1]);
    fs.write(dir + "/curr" + std::to_string(n) + "_input", ma[n - 1]);
  }
  fs.write(dir + "/in7_label", "sum of shunt voltages");
  fs.write(dir + "/in7_input", 12);
}

}  // namespace

TEST_CASE("jetson on JetPack 4 (ina3221x iio, mW)") {
  FakeSysfs fs;
  jetpack4_nano(fs);
  auto opts = fs.options();
  SUBCASE("the board input rail by default") {
    auto meter = thor::make_meter("jetson", opts);
    CHECK(meter->describe().find("POM_5V_IN") != std::string::npos);
    check_constant_power(*meter, 5.0);
  }
  SUBCASE("a rail by name, any case") {
    opts.jetson_rail = "pom_5v_gpu";
    auto meter = thor::make_meter("jetson", opts);
    check_constant_power(*meter, 1.2);
  }
}

TEST_CASE("jetson on JetPack 5 (ina3221 hwmon, mV x mA)") {
  FakeSysfs fs;
  jetpack5_orin(fs);
  auto opts = fs.options();
  opts.sample_period_s = 0.01;
  SUBCASE("the board input rail by default") {
    auto meter = thor::make_meter("jetson", opts);
    CHECK(meter->describe().find("VDD_IN") != std::string::npos);
    check_constant_power(*meter, 7.0);
  }
  SUBCASE("a rail by name") {
    opts.jetson_rail = "VDD_SOC";
    auto meter = thor::make_meter("jetson", opts);
    check_constant_power(*meter, 1.5);
  }
  SUBCASE("an unknown rail lists the rails") {
    opts.jetson_rail = "VDD_GPU";
    const std::string msg = error_of([&] { thor::make_meter("jetson", opts); });
    CHECK_MESSAGE(msg.find("VDD_GPU") != std::string::npos, msg);
    CHECK_MESSAGE(msg.find("VDD_IN, VDD_CPU_GPU_CV, VDD_SOC") != std::string::npos, msg);
    CHECK_MESSAGE(msg.find("sum of shunt") == std::string::npos, msg);
  }
  SUBCASE("a sensor that fails mid-window surfaces at stop()") {
    auto meter = thor::make_meter("jetson", opts);
    meter->start();
    fs.write("/sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3/curr1_input", "garbage");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const std::string msg = error_of([&] { meter->stop(); });
    CHECK_MESSAGE(msg.find("curr1_input") != std::string::npos, msg);
    CHECK_MESSAGE(msg.find("'garbage'") != std::string::npos, msg);
  }
}

TEST_CASE("jetson without an input rail or without rails") {
  FakeSysfs fs;
  SUBCASE("AGX Xavier has no input rail: the error lists the rails") {
    const std::string dir = "/sys/bus/i2c/drivers/ina3221x/1-0040/iio:device0";
    const char* labels[] = {"GPU", "CPU", "SOC"};
    for (int n = 0; n < 3; ++n) {
      fs.write(dir + "/rail_name_" + std::to_string(n), labels[n]);
      fs.write(dir + "/in_power" + std::to_string(n) + "_input", 1000);
    }
    const std::string msg = error_of([&] { thor::make_meter("jetson", fs.options()); });
    CHECK_MESSAGE(msg.find("GPU, CPU, SOC") != std::string::npos, msg);
    CHECK_MESSAGE(msg.find("jetson_rail") != std::string::npos, msg);
  }
  SUBCASE("not a Jetson") {
    const std::string msg = error_of([&] { thor::make_meter("jetson", fs.options()); });
    CHECK_MESSAGE(msg.find("no INA3221 rail") != std::string::npos, msg);
  }
}

namespace {
void battery(const FakeSysfs& fs, const std::string& name, long long current, long long voltage) {
  const std::string dir = "/sys/class/power_supply/" + name;
  fs.write(dir + "/type", "Battery");
  fs.write(dir + "/status", "Discharging");
  fs.write(dir + "/current_now", current);
  fs.write(dir + "/voltage_now", voltage);
}
}  // namespace

TEST_CASE("battery: current x voltage with the units and signs seen on devices") {
  FakeSysfs fs;
  fs.write("/sys/class/power_supply/AC/type", "Mains");  // sorts first, is not a battery
  fs.write("/sys/class/power_supply/AC/online", 0);
  auto opts = fs.options();
  opts.sample_period_s = 0.01;
  SUBCASE("uA and uV, as the ABI says") { battery(fs, "battery", 1500000, 3800000); }
  SUBCASE("negative current while discharging") { battery(fs, "battery", -1500000, 3800000); }
  SUBCASE("mA and mV") { battery(fs, "battery", 1500, 3800); }
  SUBCASE("mA and uV (some Samsung kernels)") { battery(fs, "battery", -1500, 3800000); }
  auto meter = thor::make_meter("battery", opts);
  CHECK(meter->describe().find("battery") != std::string::npos);
  check_constant_power(*meter, 1.5 * 3.8);
}

TEST_CASE("battery prefers power_now") {
  FakeSysfs fs;
  battery(fs, "BAT0", 1, 1);  // would read ~0 W
  fs.write("/sys/class/power_supply/BAT0/power_now", 4200000);
  auto meter = thor::make_meter("battery", fs.options());
  CHECK(meter->describe().find("power_now") != std::string::npos);
  check_constant_power(*meter, 4.2);
}

TEST_CASE("battery chooses by name") {
  FakeSysfs fs;
  battery(fs, "BAT0", 1000000, 12000000);
  battery(fs, "BAT1", 500000, 12000000);
  auto opts = fs.options();
  SUBCASE("the first battery by default") {
    check_constant_power(*thor::make_meter("battery", opts), 12.0);
  }
  SUBCASE("a named one") {
    opts.battery_name = "BAT1";
    check_constant_power(*thor::make_meter("battery", opts), 6.0);
  }
  SUBCASE("an unknown one lists the batteries") {
    opts.battery_name = "BAT7";
    const std::string msg = error_of([&] { thor::make_meter("battery", opts); });
    CHECK_MESSAGE(msg.find("BAT0, BAT1") != std::string::npos, msg);
  }
}

TEST_CASE("battery absent or unreadable") {
  FakeSysfs fs;
  SUBCASE("no battery") {
    fs.write("/sys/class/power_supply/AC/type", "Mains");
    const std::string msg = error_of([&] { thor::make_meter("battery", fs.options()); });
    CHECK_MESSAGE(msg.find("no power_supply of type Battery") != std::string::npos, msg);
  }
  SUBCASE("a counter that is a folder") {
    battery(fs, "battery", 1000, 3800);
    fs.remove("/sys/class/power_supply/battery/voltage_now");
    fs.mkdir("/sys/class/power_supply/battery/voltage_now");
    auto meter = thor::make_meter("battery", fs.options());
    const std::string msg = error_of([&] { meter->start(); });
    CHECK_MESSAGE(msg.find(fs.path("/sys/class/power_supply/battery/voltage_now").string()) !=
                      std::string::npos,
                  msg);
  }
}
