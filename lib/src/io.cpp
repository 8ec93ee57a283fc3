#include "thor/io.hpp"

namespace thor {

namespace fs = std::filesystem;

void check_output_folder(const std::string& folder) {
  std::error_code ec;
  fs::path p = fs::absolute(folder, ec);
  while (!fs::exists(p, ec) && p.has_parent_path() && p != p.parent_path()) p = p.parent_path();
  const char* why = !fs::is_directory(p, ec)         ? " is not a folder"
                    : ::access(p.c_str(), W_OK) != 0 ? " is not writable"
                                                     : nullptr;
  if (why)
    throw InputError("output '" + folder + "': cannot create the output folder: " + p.string() +
                     why + " (choose another folder with --output)");
}

StagingFolder::StagingFolder(const std::string& target) : target_(target) {
  const fs::path parent = target_.has_parent_path() ? target_.parent_path() : fs::path(".");
  try {
    if (!fs::exists(parent)) {
      fs::create_directories(parent);
      created_parent_ = parent;
    }
    path_ = parent / ("." + target_.filename().string() + ".tmp-" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  } catch (const fs::filesystem_error& e) {
    throw InputError("output '" + target + "': cannot create the output folder: " +
                     e.code().message() + " (choose another folder with --output)");
  }
}

StagingFolder::~StagingFolder() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
  if (!created_parent_.empty()) fs::remove(created_parent_, ec);  // only if still empty
}

std::string StagingFolder::file(const std::string& name) const { return (path_ / name).string(); }

void StagingFolder::commit() {
  fs::path old;
  if (fs::exists(target_)) {
    old = target_;
    old += ".old-" + std::to_string(::getpid());
    fs::remove_all(old);
    fs::rename(target_, old);
  }
  fs::rename(path_, target_);
  committed_ = true;
  if (!old.empty()) fs::remove_all(old);
}

}  // namespace thor
