// The UCI HAR Dataset reader, HAR-shaped generated windows, and images read
// as row sequences (see thor/dataset.hpp).
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "thor/dataset.hpp"

namespace thor {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kSteps = 128;  // readings per window (2.56 s at 50 Hz)
constexpr int64_t kClasses = 6;  // walking, upstairs, downstairs, sitting, standing, laying
// A line holds 128 numbers of ~16 characters; far longer is not a HAR file.
constexpr size_t kMaxLine = 1 << 16;

std::string split_name(Split s) { return s == Split::train ? "train" : "test"; }

// Reads `path` line by line; `each(line_number, text)` parses one line.
template <typename F>
int64_t for_each_line(const std::string& path, int64_t limit, F each) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open for reading");
  std::string line;
  int64_t n = 0;
  while ((limit < 0 || n < limit) && std::getline(in, line)) {
    if (line.size() > kMaxLine)
      throw InputError(path + ":" + std::to_string(n + 1) + ": line of " +
                       std::to_string(line.size()) + " characters; expected " +
                       std::to_string(kSteps) + " numbers");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    each(n + 1, line);
    ++n;
  }
  if (in.bad()) throw InputError(path + ": read error");
  return n;
}

// 128 finite numbers separated by spaces, into out[0..127].
void parse_window(const std::string& path, int64_t line_no, const std::string& text, float* out) {
  const char* p = text.c_str();
  int64_t k = 0;
  for (;;) {
    while (*p == ' ' || *p == '\t') ++p;
    if (*p == '\0') break;
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(p, &end);
    if (end == p || !std::isfinite(v) || (*end != '\0' && *end != ' ' && *end != '\t'))
      throw InputError(path + ":" + std::to_string(line_no) + ": reading " + std::to_string(k + 1) +
                       " is not a number");
    if (k == kSteps)
      throw InputError(path + ":" + std::to_string(line_no) + ": more than " +
                       std::to_string(kSteps) + " readings");
    out[k++] = static_cast<float>(v);
    p = end;
  }
  if (k != kSteps)
    throw InputError(path + ":" + std::to_string(line_no) + ": " + std::to_string(k) +
                     " readings; expected " + std::to_string(kSteps));
}

}  // namespace

void HarOptions::validate() const {
  const FieldRules f("uci-har");
  f.require(!root.empty(), "root", "\"\"", "expected the folder holding train/ and test/");
  f.require(limit != 0, "limit", "0", "expected > 0, or < 0 for all windows");
}

const std::vector<std::string>& uci_har_signals() {
  static const std::vector<std::string> names{"body_acc_x",  "body_acc_y",  "body_acc_z",
                                              "body_gyro_x", "body_gyro_y", "body_gyro_z",
                                              "total_acc_x", "total_acc_y", "total_acc_z"};
  return names;
}

Dataset load_uci_har(const HarOptions& o) {
  o.validate();
  const std::string sp = split_name(o.split);
  const fs::path dir = fs::path(o.root) / sp;
  const std::string labels_path = (dir / ("y_" + sp + ".txt")).string();
  std::vector<std::string> signal_paths, missing;
  for (const auto& s : uci_har_signals())
    signal_paths.push_back((dir / "Inertial Signals" / (s + "_" + sp + ".txt")).string());
  for (const auto& p : signal_paths)
    if (!fs::is_regular_file(p)) missing.push_back(p);
  if (!fs::is_regular_file(labels_path)) missing.push_back(labels_path);
  if (!missing.empty()) {
    std::string msg = "UCI HAR Dataset not found under " + o.root + ": missing";
    for (const auto& m : missing) msg += " " + m;
    throw InputError(msg + " (the set is published at " + kUciHarUrl +
                     "; unzip it and give the 'UCI HAR Dataset' folder)");
  }
  Dataset d;
  d.name = "uci-har/" + sp;
  d.sample_shape = {static_cast<int64_t>(uci_har_signals().size()), kSteps};
  d.num_classes = kClasses;
  for_each_line(labels_path, o.limit, [&](int64_t no, const std::string& text) {
    char* end = nullptr;
    const long v = std::strtol(text.c_str(), &end, 10);
    while (end && (*end == ' ' || *end == '\t')) ++end;
    if (end == text.c_str() || *end != '\0' || v < 1 || v > kClasses)
      throw InputError(labels_path + ":" + std::to_string(no) + ": '" + text.substr(0, 40) +
                       "' is not an activity; expected an integer 1..6");
    d.labels.push_back(v - 1);
  });
  const int64_t n = d.size();
  if (n == 0) throw InputError(labels_path + ": no labels; expected one activity per line");
  const int64_t channels = d.sample_shape[0];
  d.data.assign(static_cast<size_t>(n * channels * kSteps), 0.0f);
  for (int64_t c = 0; c < channels; ++c) {
    const std::string& path = signal_paths[static_cast<size_t>(c)];
    const int64_t lines = for_each_line(path, n, [&](int64_t no, const std::string& text) {
      float* out = d.data.data() + ((no - 1) * channels + c) * kSteps;
      parse_window(path, no, text, out);
    });
    if (lines != n)
      throw InputError(path + ": " + std::to_string(lines) + " windows; " + labels_path + " has " +
                       std::to_string(n) + (o.limit > 0 ? " (within the limit)" : ""));
  }
  return d;
}

Dataset generated_har_windows(int64_t n, uint64_t seed) {
  if (n < 1)
    throw InputError("generated HAR windows: n = " + std::to_string(n) + ", expected >= 1");
  Dataset d;
  d.name = "har-shaped (generated)";
  d.sample_shape = {static_cast<int64_t>(uci_har_signals().size()), kSteps};
  d.num_classes = kClasses;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  std::uniform_int_distribution<int64_t> label(0, kClasses - 1);
  d.data.resize(static_cast<size_t>(n * d.sample_numel()));
  for (auto& v : d.data) v = noise(rng);
  for (int64_t i = 0; i < n; ++i) d.labels.push_back(label(rng));
  return d;
}

Dataset rows_as_sequences(const Dataset& images) {
  if (images.sample_shape.size() != 3 || images.sample_shape[0] != 1)
    throw InputError(images.name + ": rows as sequences needs one-channel images [1, H, W]");
  Dataset d = images;
  d.sample_shape = {images.sample_shape[1], images.sample_shape[2]};
  d.name = images.name + " (rows as sequences)";
  return d;
}

}  // namespace thor
