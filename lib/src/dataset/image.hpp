#pragma once
/// \file
/// Internal to thor::data: image decoding and encoding (stb) and the
/// crop-and-resize used by the CelebA loader. Only image.cpp sees stb.
#include <cstdint>
#include <string>
#include <vector>

namespace thor::detail {

/// A decoded 8-bit image, rows top to bottom, channels interleaved (HWC).
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;             ///< 1 (luma) or 3 (RGB)
  std::vector<uint8_t> pixels;  ///< height * width * channels bytes
};

/// Decodes `bytes` (JPEG, PNG or BMP, with stb_image) to `channels` (1 or
/// 3) channels. Throws InputError "path: cannot decode image (reason);
/// expected a JPEG ...", also for an image of more than 2^24 pixels.
Image decode_image(const std::string& path, const std::string& bytes, int channels);

/// Encodes HWC 8-bit pixels (1 or 3 channels) as a baseline JPEG in memory.
std::string encode_jpeg(int width, int height, int channels, const uint8_t* pixels, int quality);

/// Center-crops `image` to a square of side min(width, height), resizes it to
/// size×size by area averaging, and writes channels × size × size floats
/// (CHW, / 255, in [0, 1]) to `out`.
void crop_resize_chw(const Image& image, int size, float* out);

}  // namespace thor::detail
