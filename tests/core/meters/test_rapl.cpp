// rapl meter against fake powercap trees laid out as the kernel does:
// zone folders under /sys/devices/virtual/powercap/intel-rapl/, with
// /sys/class/powercap/<zone> symlinks to them.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <thread>

#include "fake_sysfs.hpp"
#include "thor/meter.hpp"

using thor::test::FakeSysfs;

namespace {

constexpr std::int64_t kRange = 262143328850;  // a real max_energy_range_uj

std::string class_path(const std::string& zone) { return "/sys/class/powercap/" + zone; }

// Adds a zone the way sysfs shows it: the folder under devices, a class link.
void add_zone(const FakeSysfs& fs, const std::string& zone, const std::string& device_dir,
              const std::string& name, std::int64_t energy, std::int64_t range = kRange) {
  const std::string dir = "/sys/devices/virtual/powercap/" + device_dir;
  fs.write(dir + "/name", name);
  fs.write(dir + "/energy_uj", energy);
  fs.write(dir + "/max_energy_range_uj", range);
  fs.symlink("../../devices/virtual/powercap/" + device_dir, class_path(zone));
}

void set_energy(const FakeSysfs& fs, const std::string& zone, std::int64_t energy) {
  fs.write(class_path(zone) + "/energy_uj", energy);
}

// Two sockets with core/uncore/dram sub-zones and an MMIO duplicate of package 0.
void two_packages(const FakeSysfs& fs) {
  fs.mkdir("/sys/devices/virtual/powercap/intel-rapl");  // the control type, no counter
  fs.symlink("../../devices/virtual/powercap/intel-rapl", class_path("intel-rapl"));
  add_zone(fs, "intel-rapl:0", "intel-rapl/intel-rapl:0", "package-0", 1000000);
  add_zone(fs, "intel-rapl:0:0", "intel-rapl/intel-rapl:0/intel-rapl:0:0", "core", 700000);
  add_zone(fs, "intel-rapl:0:1", "intel-rapl/intel-rapl:0/intel-rapl:0:1", "uncore", 50000);
  add_zone(fs, "intel-rapl:1", "intel-rapl/intel-rapl:1", "package-1", 5000000);
  add_zone(fs, "intel-rapl:1:0", "intel-rapl/intel-rapl:1/intel-rapl:1:0", "dram", 90000);
  add_zone(fs, "intel-rapl-mmio:0", "intel-rapl-mmio/intel-rapl-mmio:0", "package-0", 1000000);
}

}  // namespace

TEST_CASE("rapl counts package zones only, as the counters move") {
  FakeSysfs fs;
  two_packages(fs);
  auto meter = thor::make_meter("rapl", fs.options());
  CHECK(meter->name() == "rapl");
  CHECK(meter->kind() == thor::EnergyKind::measured);
  const std::string d = meter->describe();
  CHECK(d.find("package-0") != std::string::npos);
  CHECK(d.find("package-1") != std::string::npos);
  CHECK(d.find("core") == std::string::npos);
  CHECK(d.find("mmio") == std::string::npos);

  meter->start();
  set_energy(fs, "intel-rapl:0", 1000000 + 2500000);
  set_energy(fs, "intel-rapl:1", 5000000 + 1000000);
  set_energy(fs, "intel-rapl:0:0", 700000 + 9000000);      // must not count
  set_energy(fs, "intel-rapl:1:0", 90000 + 9000000);       // must not count
  set_energy(fs, "intel-rapl-mmio:0", 1000000 + 2500000);  // duplicate: must not count
  const thor::EnergyReading r = meter->stop();
  CHECK(r.joules == doctest::Approx(3.5).epsilon(1e-12));
  CHECK(r.kind == thor::EnergyKind::measured);
  CHECK(r.seconds >= 0.0);
  CHECK(r.seconds < 60.0);

  SUBCASE("a second window starts from zero") {
    meter->start();
    set_energy(fs, "intel-rapl:1", 5000000 + 1000000 + 250000);
    CHECK(meter->stop().joules == doctest::Approx(0.25).epsilon(1e-12));
  }
  SUBCASE("an idle window reads zero") {
    meter->start();
    CHECK(meter->stop().joules == 0.0);
  }
}

TEST_CASE("rapl handles a counter that wraps at max_energy_range_uj") {
  FakeSysfs fs;
  add_zone(fs, "intel-rapl:0", "intel-rapl/intel-rapl:0", "package-0", kRange - 1000);
  auto meter = thor::make_meter("rapl", fs.options());
  meter->start();
  set_energy(fs, "intel-rapl:0", 500);
  // Counter values run 0..max, so the modulus is max + 1: 1000 + 1 + 500 uJ.
  CHECK(meter->stop().joules == doctest::Approx(1501e-6).epsilon(1e-9));
}

TEST_CASE("rapl's sampling thread counts movement beyond one wrap in a long window") {
  // The counter advances 0.6 of its range three times, ~1 s apart; the 1 s
  // sampler sees each step, so the window reads 1.8 ranges where reading only
  // at start and stop would see 0.8. Margins of ~0.5 s around each sample.
  FakeSysfs fs;
  const std::int64_t range = 1000000;  // 1 J, small for the test
  add_zone(fs, "intel-rapl:0", "intel-rapl/intel-rapl:0", "package-0", 0, range);
  auto meter = thor::make_meter("rapl", fs.options());
  std::int64_t value = 0;
  meter->start();
  for (int step = 0; step < 3; ++step) {
    std::this_thread::sleep_for(std::chrono::milliseconds(step == 0 ? 500 : 1000));
    value = (value + 600000) % (range + 1);
    set_energy(fs, "intel-rapl:0", value);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto r = meter->stop();
  REQUIRE_MESSAGE(
      r.joules == doctest::Approx(1.8).epsilon(1e-9),
      "the sampler should have read the counter between the steps; seconds = " << r.seconds);
}

TEST_CASE("rapl skips the psys platform zone, which contains the packages") {
  FakeSysfs fs;
  add_zone(fs, "intel-rapl:0", "intel-rapl/intel-rapl:0", "package-0", 100);
  add_zone(fs, "intel-rapl:1", "intel-rapl/intel-rapl:1", "psys", 100);
  auto meter = thor::make_meter("rapl", fs.options());
  meter->start();
  set_energy(fs, "intel-rapl:0", 2000100);
  set_energy(fs, "intel-rapl:1", 9000100);
  CHECK(meter->stop().joules == doctest::Approx(2.0));
}

TEST_CASE("rapl with an unreadable energy_uj throws SensorError naming the file") {
  // Tests run as root, where chmod 000 does not stop a read, so the
  // unreadable counter is made unreadable for everyone: a folder in its
  // place (read fails with EISDIR) or a dangling symlink (ENOENT).
  FakeSysfs fs;
  add_zone(fs, "intel-rapl:0", "intel-rapl/intel-rapl:0", "package-0", 100);
  const std::string file = fs.path(class_path("intel-rapl:0") + "/energy_uj").string();
  fs.remove(class_path("intel-rapl:0") + "/energy_uj");

  SUBCASE("a folder") { fs.mkdir(class_path("intel-rapl:0") + "/energy_uj"); }
  SUBCASE("a dangling symlink") {
    fs.symlink("no-such-counter", class_path("intel-rapl:0") + "/energy_uj");
  }
  auto meter = thor::make_meter("rapl", fs.options());
  try {
    meter->start();
    FAIL("start() should have thrown");
  } catch (const thor::SensorError& e) {
    const std::string msg = e.what();
    CHECK_MESSAGE(msg.find(file) != std::string::npos, msg);
    CHECK_MESSAGE(msg.find("cannot read") != std::string::npos, msg);
  }
}

TEST_CASE("rapl without permission says how to get it") {
  // As on Linux >= 5.10: energy_uj is 0400 root. Root reads it regardless,
  // so when the tests run as root the check runs in a child process that
  // has dropped to the unprivileged user `nobody` first.
  FakeSysfs fs;
  add_zone(fs, "intel-rapl:0", "intel-rapl/intel-rapl:0", "package-0", 100);
  const auto file = fs.path(class_path("intel-rapl:0") + "/energy_uj");
  std::filesystem::permissions(file, std::filesystem::perms::owner_read);
  const auto options = fs.options();
  auto message = [&]() -> std::string {
    try {
      auto meter = thor::make_meter("rapl", options);
      meter->start();
    } catch (const thor::SensorError& e) {
      return e.what();
    }
    return "start() did not throw";
  };
  auto expected = [&](const std::string& msg) {
    return msg.find(file.string()) != std::string::npos &&
           msg.find("chmod o+r") != std::string::npos &&
           msg.find("--meter cpu-model") != std::string::npos;
  };
  if (::geteuid() != 0) {
    const std::string msg = message();
    CHECK_MESSAGE(expected(msg), msg);
    return;
  }
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    const bool dropped = ::setgid(65534) == 0 && ::setuid(65534) == 0;  // nobody
    const std::string msg = dropped ? message() : "could not drop to nobody";
    (void)!::write(pipe_fds[1], msg.data(), msg.size());
    ::_exit(dropped && expected(msg) ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  std::string msg;
  char buf[1024];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;) msg.append(buf, size_t(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK_MESSAGE(WIFEXITED(status), msg);
  CHECK_MESSAGE(WEXITSTATUS(status) == 0, msg);
}

TEST_CASE("rapl with a malformed counter names the file and the text") {
  FakeSysfs fs;
  add_zone(fs, "intel-rapl:0", "intel-rapl/intel-rapl:0", "package-0", 100);
  fs.write(class_path("intel-rapl:0") + "/energy_uj", "12x4");
  auto meter = thor::make_meter("rapl", fs.options());
  try {
    meter->start();
    FAIL("start() should have thrown");
  } catch (const thor::SensorError& e) {
    const std::string msg = e.what();
    CHECK_MESSAGE(msg.find("energy_uj") != std::string::npos, msg);
    CHECK_MESSAGE(msg.find("'12x4'") != std::string::npos, msg);
  }
}

TEST_CASE("rapl without package zones throws SensorError") {
  FakeSysfs fs;
  SUBCASE("no powercap folder at all") {}
  SUBCASE("only sub-zones and mmio") {
    add_zone(fs, "intel-rapl:0:0", "intel-rapl/intel-rapl:0/intel-rapl:0:0", "core", 1);
    add_zone(fs, "intel-rapl-mmio:0", "intel-rapl-mmio/intel-rapl-mmio:0", "package-0", 1);
  }
  try {
    thor::make_meter("rapl", fs.options());
    FAIL("make_meter should have thrown");
  } catch (const thor::SensorError& e) {
    const std::string msg = e.what();
    CHECK_MESSAGE(msg.find("no RAPL package zone") != std::string::npos, msg);
    CHECK_MESSAGE(msg.find(fs.root()) != std::string::npos, msg);
  }
}
