// Image decoding and the crop-and-resize of the CelebA loader
// (lib/src/dataset/image.hpp, internal to thor::data; load_celeba calls it
// for every image). Byte 0: bit 0 grayscale, bits 1-7 the output side - 1
// (1..128); the rest is the file. Decodes or ends in one InputError naming
// the file; no allocation beyond what the header's size can justify.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int channels = data[0] & 1 ? 1 : 3;
  const int side = 1 + (data[0] >> 1);
  const std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  thor::detail::Image img;
  if (!thor::fuzz::loads_or_input_error(
          [&] { img = thor::detail::decode_image("fuzz.jpg", bytes, channels); }, "fuzz.jpg"))
    return 0;
  if (img.width < 1 || img.height < 1 || img.channels != channels ||
      img.pixels.size() != static_cast<size_t>(img.width) * img.height * channels)
    thor::fuzz::finding("decoded image with inconsistent size: " + std::to_string(img.width) + "x" +
                        std::to_string(img.height) + "x" + std::to_string(img.channels) + ", " +
                        std::to_string(img.pixels.size()) + " bytes");
  std::vector<float> out(static_cast<size_t>(channels) * side * side, -1.f);
  thor::detail::crop_resize_chw(img, side, out.data());
  for (float v : out)
    if (!(v >= 0.f && v <= 1.f)) thor::fuzz::finding("a resized pixel outside [0, 1]");
  return 0;
}
