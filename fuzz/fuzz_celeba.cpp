// CelebA (load_celeba) from a folder built from one input:
//   byte 0    bit 0: grayscale; bit 1: test split; bits 2-3: limit -1, 1, 2 or 5;
//             bits 4-7: image_size - 1 (1..16)
//   then      list_attr_celeba.txt, list_eval_partition.txt and the images
//             000001.jpg, 000002.jpg, ... in that order, separated by kSeparator.
// Loads (attribute "Male") or ends in one InputError naming a file.
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "thor/dataset.hpp"

namespace {
const std::string kSeparator = "\n=thor-fuzz=\n";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using thor::fuzz::finding;
  if (size < 1) return 0;
  const auto parts = thor::fuzz::split_parts(data + 1, size - 1, kSeparator);
  if (parts.size() < 2 || parts.size() > 66) return 0;
  const auto root = thor::fuzz::scratch() / "celeba";
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  thor::fuzz::write_bytes(root / "list_attr_celeba.txt", parts[0]);
  thor::fuzz::write_bytes(root / "list_eval_partition.txt", parts[1]);
  std::filesystem::create_directories(root / "img_align_celeba");
  for (size_t i = 2; i < parts.size(); ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "%06zu.jpg", i - 1);
    thor::fuzz::write_bytes(root / "img_align_celeba" / name, parts[i]);
  }
  thor::CelebAOptions o;
  o.root = root.string();
  o.grayscale = data[0] & 1;
  o.split = data[0] & 2 ? thor::Split::test : thor::Split::train;
  const int64_t limits[] = {-1, 1, 2, 5};
  o.limit = limits[(data[0] >> 2) & 3];
  o.image_size = 1 + (data[0] >> 4);
  thor::Dataset d;
  if (!thor::fuzz::loads_or_input_error([&] { d = thor::load_celeba(o); }, root.string())) return 0;
  if (d.size() < 1 || (o.limit > 0 && d.size() > o.limit)) finding("wrong image count");
  if (d.data.size() != static_cast<size_t>(d.size() * d.sample_numel()))
    finding("data does not hold size() * sample_numel() values");
  for (float v : d.data)
    if (!(v >= 0.f && v <= 1.f)) finding("a pixel outside [0, 1]");
  return 0;
}
