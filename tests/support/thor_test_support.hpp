#pragma once
// Helpers shared by the doctest suites: temp folders and small datasets.
#include <filesystem>
#include <random>
#include <string>

#include "thor/dataset.hpp"

namespace thor::testing {

/// A fresh temp folder removed when the object dies.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag) {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / ("thor-" + tag + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string str(const std::string& child = "") const { return (path / child).string(); }
};

/// A learnable 2-class image task: noise in [0, 0.6] with the left half
/// (class 1) or the right half (class 0) brightened by 0.4.
inline Dataset left_right_dataset(int64_t n, int64_t side, uint64_t seed) {
  Dataset d = random_dataset({1, side, side}, n, 2, seed);
  for (int64_t i = 0; i < n; ++i) {
    float* img = d.data.data() + i * side * side;
    const bool left = d.labels[static_cast<size_t>(i)] == 1;
    for (int64_t r = 0; r < side; ++r)
      for (int64_t c = 0; c < side; ++c)
        img[r * side + c] = 0.6f * img[r * side + c] + ((c < side / 2) == left ? 0.4f : 0.0f);
  }
  d.name = "left-right";
  return d;
}

}  // namespace thor::testing
