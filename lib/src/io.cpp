#include "thor/io.hpp"

namespace thor {

namespace fs = std::filesystem;

StagingFolder::StagingFolder(const std::string& target) : target_(target) {
  const fs::path parent = target_.has_parent_path() ? target_.parent_path() : fs::path(".");
  if (!fs::exists(parent)) {
    fs::create_directories(parent);
    created_parent_ = parent;
  }
  path_ = parent / ("." + target_.filename().string() + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(path_);
  fs::create_directories(path_);
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
