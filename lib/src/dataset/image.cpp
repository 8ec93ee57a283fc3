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
// Only the formats thor reads (CelebA is JPEG): stb's other decoders (GIF,
// PSD, TGA, HDR, PIC, PNM) are more code for a hostile file to reach.
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#if defined(__clang__)
// stb's decoders compute with ints that a corrupt file can overflow (a DC
// sum, a shifted coefficient): the value wraps and is clamped or refused,
// stb 2.28 checks them. UBSan (the fuzz build) is for thor's arithmetic.
#pragma clang attribute push(__attribute__((no_sanitize("signed-integer-overflow", "shift"))), \
                             apply_to = function)
#endif
#include <stb_image.h>
#include <stb_image_write.h>
#if defined(__clang__)
#pragma clang attribute pop
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace thor::detail {

namespace {

/// Debian's stb_image (the 2022-09 snapshot) writes past a Huffman table
/// when a JPEG's DHT segment declares more than 256 codes (stb 2.28 checks
/// it). Walks the segments as stb reads them (a marker is 0xFF, fill 0xFF
/// bytes, then its code; 0xFF00 and RSTn inside scan data are not markers)
/// and refuses such a table before stb sees it. Other files pass untouched.
void check_jpeg_huffman_tables(const std::string& path, const std::string& b) {
  const auto at = [&](size_t i) { return i < b.size() ? static_cast<uint8_t>(b[i]) : uint8_t{0}; };
  size_t i = 0;
  while (at(i) == 0xff && i < b.size()) ++i;
  if (i == 0 || at(i) != 0xd8) return;  // not a JPEG: no SOI marker first
  ++i;
  while (i + 1 < b.size()) {
    const uint8_t m = at(i + 1);
    if (at(i) != 0xff || m == 0xff) {  // scan data, or a fill byte before a marker
      ++i;
      continue;
    }
    if (m == 0xd9) return;  // EOI
    if (m == 0x00 || m == 0x01 || (m >= 0xd0 && m <= 0xd8)) {
      i += 2;  // a stuffed byte, TEM, RSTn, SOI: no length
      continue;
    }
    const size_t length = (size_t{at(i + 2)} << 8) | at(i + 3);
    if (m == 0xc4) {  // DHT: tables of [class/id, 16 code counts, values] while length lasts
      for (size_t t = i + 4, left = length < 2 ? 0 : length - 2; left > 0;) {
        if ((at(t) >> 4) > 1 || (at(t) & 15) > 3) break;  // stb refuses the segment itself
        size_t codes = 0;
        for (size_t k = 1; k <= 16; ++k) codes += at(t + k);
        if (codes > 256)
          throw InputError(path + ": cannot decode image (corrupt JPEG: a Huffman table of " +
                           std::to_string(codes) +
                           " codes, at most 256); expected a JPEG (or PNG/BMP) file");
        if (17 + codes >= left) break;
        left -= 17 + codes;
        t += 17 + codes;
      }
    }
    i += 2 + length;  // SOS: its header; the scan data follows
  }
}

/// stb_image allocates a PNG chunk's declared length before reading it (up
/// to 4 GiB from 4 bytes): every chunk up to IEND must fit in the file.
void check_png_chunks(const std::string& path, const std::string& b) {
  static const char kSignature[] = "\x89PNG\r\n\x1a\n";
  if (b.compare(0, 8, kSignature, 8) != 0) return;
  const auto be32 = [&](size_t i) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) v = (v << 8) | static_cast<uint8_t>(b[i + k]);
    return v;
  };
  for (size_t i = 8; i + 8 <= b.size();) {
    const size_t length = be32(i), left = b.size() - (i + 8);
    const std::string type = b.substr(i + 4, 4);
    if (length > left)
      throw InputError(path + ": cannot decode image (truncated PNG: chunk '" + type + "' of " +
                       std::to_string(length) + " bytes, " + std::to_string(left) +
                       " left in the file); expected a JPEG (or PNG/BMP) file");
    if (type == "IEND") return;
    i += 12 + length;  // length, type, data, CRC
  }
}

}  // namespace

Image decode_image(const std::string& path, const std::string& bytes, int channels) {
  if (channels != 1 && channels != 3)
    throw std::invalid_argument("decode_image: channels must be 1 or 3, got " +
                                std::to_string(channels));
  if (bytes.empty()) throw InputError(path + ": empty file; expected a JPEG image");
  if (bytes.size() > static_cast<size_t>(INT32_MAX))
    throw InputError(path + ": file too large (" + std::to_string(bytes.size()) +
                     " bytes); expected an image under 2 GiB");
  check_jpeg_huffman_tables(path, bytes);
  check_png_chunks(path, bytes);
  int w = 0, h = 0, n = 0;
  // The size in the header, before stb allocates for it: a few bytes can claim 65535x65535.
  constexpr int64_t kMaxPixels = int64_t{1} << 24;
  if (stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                            static_cast<int>(bytes.size()), &w, &h, &n) &&
      int64_t{w} * h > kMaxPixels)
    throw InputError(path + ": image of " + std::to_string(w) + "x" + std::to_string(h) +
                     " pixels; expected at most " + std::to_string(kMaxPixels) +
                     " pixels (4096x4096)");
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
  if (w < 1 || h < 1)  // stb's BMP reader returns a 0-row image
    throw InputError(path + ": cannot decode image (" + std::to_string(w) + "x" +
                     std::to_string(h) + " pixels); expected a JPEG (or PNG/BMP) file");
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
