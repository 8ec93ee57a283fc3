// The UCI HAR Dataset reader (load_uci_har). A valid three-window tree is
// written once; each input replaces one of its ten files:
//   byte 0      which file: 0-8 the signals in channel order, 9 the labels;
//               bit 4: limit 2 instead of all
//   the rest    that file's new content
// Loads or ends in one InputError naming the tree; what loads has the
// promised shape and labels.
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "thor/dataset.hpp"

namespace {

std::string valid_window() {
  std::string line;
  for (int t = 0; t < 128; ++t) line += "  " + std::to_string(0.001 * t);
  return line + "\n";
}

// The tree's files, in the order byte 0 chooses from.
std::vector<std::filesystem::path> tree(const std::filesystem::path& root) {
  std::vector<std::filesystem::path> files;
  for (const auto& s : thor::uci_har_signals())
    files.push_back(root / "train" / "Inertial Signals" / (s + "_train.txt"));
  files.push_back(root / "train" / "y_train.txt");
  return files;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto root = thor::fuzz::scratch() / "har";
  const auto files = tree(root);
  std::filesystem::create_directories(root / "train" / "Inertial Signals");
  const std::string window = valid_window(), three = window + window + window;
  for (size_t i = 0; i + 1 < files.size(); ++i)
    thor::fuzz::write_bytes(files[i], reinterpret_cast<const uint8_t*>(three.data()), three.size());
  thor::fuzz::write_bytes(files.back(), reinterpret_cast<const uint8_t*>("1\n4\n6\n"), 6);
  thor::fuzz::write_bytes(files[data[0] % files.size()], data + 1, size - 1);
  const int64_t limit = (data[0] & 16) ? 2 : -1;
  thor::Dataset d;
  if (!thor::fuzz::loads_or_input_error(
          [&] {
            d = thor::load_uci_har({root.string(), thor::Split::train, limit});
          },
          root.string()))
    return 0;
  if (d.size() < 1 || (limit > 0 && d.size() > limit)) thor::fuzz::finding("wrong window count");
  if (d.sample_shape != std::vector<int64_t>{9, 128}) thor::fuzz::finding("wrong sample shape");
  if (d.data.size() != static_cast<size_t>(d.size() * 9 * 128))
    thor::fuzz::finding("data does not hold size() * 9 * 128 values");
  for (int64_t l : d.labels)
    if (l < 0 || l >= 6) thor::fuzz::finding("label out of [0, 6)");
  return 0;
}
