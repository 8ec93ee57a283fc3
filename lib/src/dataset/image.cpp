#include "image.hpp"

#include <algorithm>
#include <cmath>

#include "thor/error.hpp"

// stb is compiled into this translation unit with static linkage, so that
// thor::data exports no stbi_* symbols that could clash with another copy in
// the same program. Define THOR_USE_SYSTEM_STB (and link Debian's libstb,
// `pkg-config stb`) to use the shared library instead.
#ifndef THOR_USE_SYSTEM_STB
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <stb_image.h>
#include <stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace thor::detail {

Image decode_image(const std::string& path, const std::string& bytes, int channels) {
  if (channels != 1 && channels != 3)
    throw std::invalid_argument("decode_image: channels must be 1 or 3, got " +
                                std::to_string(channels));
  if (bytes.empty()) throw InputError(path + ": empty file; expected a JPEG image");
  if (bytes.size() > static_cast<size_t>(INT32_MAX))
    throw InputError(path + ": file too large (" + std::to_string(bytes.size()) +
                     " bytes); expected an image under 2 GiB");
  int w = 0, h = 0, n = 0;
  stbi_uc* p = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                                     static_cast<int>(bytes.size()), &w, &h, &n, channels);
  if (p == nullptr) {
    const char* why = stbi_failure_reason();
    throw InputError(path + ": cannot decode image (" + std::string(why ? why : "unknown reason") +
                     "); expected a JPEG (or PNG/BMP) file");
  }
  Image img;
  img.width = w;
  img.height = h;
  img.channels = channels;
  img.pixels.assign(p, p + static_cast<size_t>(w) * h * channels);
  stbi_image_free(p);
  return img;
}

std::string encode_jpeg(int width, int height, int channels, const uint8_t* pixels, int quality) {
  std::string out;
  auto sink = [](void* ctx, void* data, int size) {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(data),
                                           static_cast<size_t>(size));
  };
  if (!stbi_write_jpg_to_func(sink, &out, width, height, channels, pixels, quality))
    throw std::runtime_error("encode_jpeg: stb_image_write failed for a " + std::to_string(width) +
                             "x" + std::to_string(height) + "x" + std::to_string(channels) +
                             " image");
  return out;
}

namespace {

/// One source pixel's share of one output pixel along an axis.
struct Tap {
  int index;
  float weight;
};

/// For each of `dst` output pixels, the source pixels in [o·s, (o+1)·s) with
/// s = src / dst and weights equal to their covered fraction (summing to 1).
std::vector<std::vector<Tap>> area_taps(int src, int dst) {
  std::vector<std::vector<Tap>> taps(static_cast<size_t>(dst));
  const double scale = static_cast<double>(src) / dst;
  for (int o = 0; o < dst; ++o) {
    const double a = o * scale, b = (o + 1) * scale;
    const int first = static_cast<int>(std::floor(a));
    const int last = std::min(src - 1, static_cast<int>(std::ceil(b)) - 1);
    double total = 0;
    for (int s = first; s <= last; ++s) {
      const double w = std::min(b, s + 1.0) - std::max(a, static_cast<double>(s));
      if (w <= 1e-12) continue;
      taps[o].push_back({s, static_cast<float>(w)});
      total += w;
    }
    for (auto& t : taps[o]) t.weight = static_cast<float>(t.weight / total);
  }
  return taps;
}

}  // namespace

void crop_resize_chw(const Image& image, int size, float* out) {
  const int side = std::min(image.width, image.height);
  const int x0 = (image.width - side) / 2, y0 = (image.height - side) / 2;
  const int c_count = image.channels;
  const auto taps = area_taps(side, size);
  // Vertical pass into `rows` (size × side × C), then horizontal into `out`.
  std::vector<float> rows(static_cast<size_t>(size) * side * c_count, 0.f);
  for (int oy = 0; oy < size; ++oy) {
    float* row = &rows[static_cast<size_t>(oy) * side * c_count];
    for (const Tap& ty : taps[oy]) {
      const uint8_t* src =
          &image.pixels[(static_cast<size_t>(y0 + ty.index) * image.width + x0) * c_count];
      for (int i = 0; i < side * c_count; ++i) row[i] += ty.weight * src[i];
    }
  }
  const size_t plane = static_cast<size_t>(size) * size;
  for (int oy = 0; oy < size; ++oy) {
    const float* row = &rows[static_cast<size_t>(oy) * side * c_count];
    for (int ox = 0; ox < size; ++ox) {
      for (int c = 0; c < c_count; ++c) {
        float v = 0.f;
        for (const Tap& tx : taps[ox]) v += tx.weight * row[tx.index * c_count + c];
        out[c * plane + static_cast<size_t>(oy) * size + ox] = std::clamp(v / 255.f, 0.f, 1.f);
      }
    }
  }
}

}  // namespace thor::detail
