#pragma once
// A fake sysfs tree for meter tests: a fresh folder under the system temp
// folder, removed at scope exit. Paths are absolute sysfs paths
// ("/sys/class/powercap/intel-rapl:0/energy_uj") placed under the root.
// Files are written atomically (temp + rename), as a sensor's value is
// replaced whole, so a meter's sampling thread never reads half a number.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "thor/meter.hpp"

namespace thor::test {

class FakeSysfs {
 public:
  FakeSysfs() {
    static std::atomic<int> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    root_ = std::filesystem::temp_directory_path() /
            ("thor-fake-sysfs-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
             "-" + std::to_string(stamp));
    std::filesystem::create_directories(root_);
  }
  ~FakeSysfs() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  FakeSysfs(const FakeSysfs&) = delete;
  FakeSysfs& operator=(const FakeSysfs&) = delete;

  /// The tree's root, to put in MeterOptions::sysfs_root.
  std::string root() const { return root_.string(); }
  /// Where an absolute sysfs path lies in the tree.
  std::filesystem::path path(const std::string& sysfs_path) const {
    return root_ / std::filesystem::path(sysfs_path).relative_path();
  }
  /// Writes `content` plus a newline (as the kernel does), atomically.
  void write(const std::string& sysfs_path, const std::string& content) const {
    const auto p = path(sysfs_path);
    std::filesystem::create_directories(p.parent_path());
    const auto tmp = p.string() + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      if (!out) throw std::runtime_error("fake sysfs: cannot write " + tmp);
      out << content << "\n";
    }
    std::filesystem::rename(tmp, p);
  }
  void write(const std::string& sysfs_path, long long value) const {
    write(sysfs_path, std::to_string(value));
  }
  void mkdir(const std::string& sysfs_path) const {
    std::filesystem::create_directories(path(sysfs_path));
  }
  /// A symlink at `sysfs_path` pointing to `target` (taken as is).
  void symlink(const std::string& target, const std::string& sysfs_path) const {
    const auto p = path(sysfs_path);
    std::filesystem::create_directories(p.parent_path());
    std::filesystem::create_symlink(target, p);
  }
  void remove(const std::string& sysfs_path) const {
    std::filesystem::remove_all(path(sysfs_path));
  }

  /// Meter options reading this tree; nvml pointed at a library that does
  /// not exist so that a GPU on the test machine does not leak in.
  MeterOptions options() const {
    MeterOptions o;
    o.sysfs_root = root();
    o.nvml_library = (root_ / "no-such-libnvidia-ml.so").string();
    return o;
  }

 private:
  std::filesystem::path root_;
};

}  // namespace thor::test
