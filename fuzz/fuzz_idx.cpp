// IDX images and labels (load_idx, load_mnist_folder), plain or gzip. One
// input holds both files:
//   byte 0      bit 0: load_mnist_folder (train split) instead of load_idx;
//               bits 1-2: limit -1, 1, 3 or 0
//   bytes 1-4   length L of the image file (big-endian; cut to what is left)
//   then        L bytes of the image file, the rest is the label file.
// Loads or ends in one InputError naming a file; no allocation beyond what
// the files hold (libFuzzer's -malloc_limit_mb catches one from a header).
#include <algorithm>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "thor/dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  const uint8_t mode = data[0];
  const size_t declared =
      (size_t{data[1]} << 24) | (size_t{data[2]} << 16) | (size_t{data[3]} << 8) | size_t{data[4]};
  const size_t images_size = std::min(declared, size - 5);
  const auto dir = thor::fuzz::scratch() / "mnist";
  const auto images = dir / "train-images-idx3-ubyte", labels = dir / "train-labels-idx1-ubyte";
  thor::fuzz::write_bytes(images, data + 5, images_size);
  thor::fuzz::write_bytes(labels, data + 5 + images_size, size - 5 - images_size);
  const int64_t limits[] = {-1, 1, 3, 0};
  const int64_t limit = limits[(mode >> 1) & 3];
  const bool folder = mode & 1;
  thor::Dataset d;
  if (!thor::fuzz::loads_or_input_error(
          [&] {
            d = folder ? thor::load_mnist_folder(dir.string(), thor::Split::train, limit)
                       : thor::load_idx(images.string(), labels.string(), limit);
          },
          dir.string()))
    return 0;
  if (d.size() < 1 || (limit > 0 && d.size() > limit)) thor::fuzz::finding("wrong sample count");
  if (d.data.size() != static_cast<size_t>(d.size() * d.sample_numel()))
    thor::fuzz::finding("data does not hold size() * sample_numel() values");
  for (int64_t l : d.labels)
    if (l < 0 || l >= d.num_classes) thor::fuzz::finding("label out of [0, num_classes)");
  return 0;
}
