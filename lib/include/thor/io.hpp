#pragma once
/// \file
/// Small file helpers shared by every component: whole-file reads with
/// clear errors, and atomic writes (temp file in the same folder, then
/// rename) so that no reader ever sees a half-written output.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "thor/error.hpp"

namespace thor {

/// Reads a whole file; throws InputError naming the file when it cannot.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw InputError(path + ": read error");
  return ss.str();
}

/// Writes `content` to `path` atomically: readers see the old file or the
/// complete new one, never a prefix. Creates missing parent folders. A
/// failure (unwritable folder, full disk) throws InputError naming the file
/// and leaves neither the temp file nor a partial `path`.
inline void write_file_atomic(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f)
    throw InputError(path + ": cannot write: " + std::strerror(errno) +
                     " (is the folder writable? choose another with --output)");
  const bool written = std::fwrite(content.data(), 1, content.size(), f) == content.size() &&
                       std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const int err = errno;
  if (std::fclose(f) != 0 || !written) {
    std::remove(tmp.c_str());
    throw InputError(path + ": cannot write: " + std::strerror(written ? errno : err) +
                     " (disk full? free space or choose another folder with --output)");
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw InputError(path + ": cannot rename the finished file into place: " + ec.message());
  }
}

/// Throws InputError unless `folder` can be created and written: its nearest
/// existing ancestor must be a writable folder. Jobs call it before any
/// slow step, so a bad --output fails in a second, not after an hour.
void check_output_folder(const std::string& folder);

/// An output folder assembled in a hidden sibling (".NAME.tmp-PID") and
/// renamed into place by commit(), so a failure at any step leaves neither
/// a partial folder nor the staging one behind (the destructor removes it).
class StagingFolder {
 public:
  explicit StagingFolder(const std::string& target);
  ~StagingFolder();
  StagingFolder(const StagingFolder&) = delete;
  StagingFolder& operator=(const StagingFolder&) = delete;
  /// Path of `name` inside the staging folder.
  std::string file(const std::string& name) const;
  const std::filesystem::path& path() const { return path_; }
  /// Replaces the target: an old folder is moved aside first, then removed.
  void commit();

 private:
  std::filesystem::path target_, path_, created_parent_;
  bool committed_ = false;
};

}  // namespace thor
