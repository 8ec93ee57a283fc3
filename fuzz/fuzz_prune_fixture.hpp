#pragma once
// The prune run whose resume state (pruner/src/resume.hpp) fuzz_prune_resume
// reads and fuzz_seeds writes: the tiny network, default prune options, and
// the output folder "out" in the current folder (the state's fingerprint
// holds the output path, so the harness works inside its scratch folder).
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "fuzz_fixtures.hpp"
#include "thor/pruner/options.hpp"
#include "thor/pruner/strategy.hpp"
#include "thor/recipe.hpp"

namespace thor::fuzz {

inline Recipe resume_recipe() {
  Recipe r;
  r.name = "fuzz";
  r.model = tiny_architecture();
  r.output = "out";
  return r;
}

/// The short fine-tunes' channel configurations the seed's round holds.
inline std::vector<pruner::ChannelConfig> resume_channels() { return {{2, 3}, {4, 6}, {1, 2}}; }

/// Changes the working folder for its lifetime (ResumeState's paths are
/// relative to the output folder's parent).
class ScopedChdir {
 public:
  explicit ScopedChdir(const std::string& dir) : old_(::open(".", O_RDONLY | O_DIRECTORY)) {
    if (old_ < 0 || ::chdir(dir.c_str()) != 0) finding("cannot change to " + dir);
  }
  ~ScopedChdir() {
    if (::fchdir(old_) != 0) finding("cannot change back to the starting folder");
    ::close(old_);
  }
  ScopedChdir(const ScopedChdir&) = delete;
  ScopedChdir& operator=(const ScopedChdir&) = delete;

 private:
  int old_;
};

}  // namespace thor::fuzz
