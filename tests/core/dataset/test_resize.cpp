// The internal center-crop and area-average resize used by load_celeba.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "image.hpp"
#include "thor/error.hpp"

namespace {

thor::detail::Image gray(int w, int h, std::vector<uint8_t> px) {
  thor::detail::Image img;
  img.width = w;
  img.height = h;
  img.channels = 1;
  img.pixels = std::move(px);
  REQUIRE(img.pixels.size() == static_cast<size_t>(w * h));
  return img;
}

std::vector<float> resize(const thor::detail::Image& img, int size) {
  std::vector<float> out(static_cast<size_t>(img.channels) * size * size, -1.f);
  thor::detail::crop_resize_chw(img, size, out.data());
  return out;
}

}  // namespace

TEST_CASE("crop_resize_chw averages areas") {
  SUBCASE("4x4 to 2x2 is the mean of each 2x2 block") {
    const auto out = resize(gray(4, 4,
                                 {0, 2, 4, 6,  //
                                  2, 4, 6, 8,  //
                                  10, 10, 20, 20, 10, 10, 20, 20}),
                            2);
    CHECK(out[0] == doctest::Approx(2.f / 255));
    CHECK(out[1] == doctest::Approx(6.f / 255));
    CHECK(out[2] == doctest::Approx(10.f / 255));
    CHECK(out[3] == doctest::Approx(20.f / 255));
  }
  SUBCASE("3 to 2 weighs partly covered pixels by their covered fraction") {
    // Output pixel 0 covers source [0, 1.5): 2/3 of pixel 0, 1/3 of pixel 1.
    const auto out = resize(gray(3, 3, {0, 90, 180, 0, 90, 180, 0, 90, 180}), 2);
    CHECK(out[0] == doctest::Approx(30.f / 255));
    CHECK(out[1] == doctest::Approx(150.f / 255));
  }
  SUBCASE("the crop is centered: a 4x2 image keeps its middle two columns") {
    const auto out = resize(gray(4, 2, {255, 10, 20, 255, 255, 30, 40, 255}), 2);
    CHECK(out == std::vector<float>{10.f / 255, 20.f / 255, 30.f / 255, 40.f / 255});
  }
  SUBCASE("a tall image keeps its middle rows") {
    const auto out = resize(gray(1, 3, {0, 128, 255}), 1);
    CHECK(out[0] == doctest::Approx(128.f / 255));
  }
  SUBCASE("upscaling repeats pixels") {
    const auto out = resize(gray(2, 2, {0, 255, 255, 0}), 4);
    CHECK(out[0] == 0.f);
    CHECK(out[1] == 0.f);
    CHECK(out[2] == 1.f);
    CHECK(out[3] == 1.f);
    CHECK(out[15] == 0.f);
  }
  SUBCASE("RGB is written as CHW planes") {
    thor::detail::Image img;
    img.width = img.height = 2;
    img.channels = 3;
    img.pixels = {255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0};
    const auto out = resize(img, 1);
    CHECK(out == std::vector<float>{1.f, 0.f, 0.f});
  }
}

namespace {

std::string le(uint32_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}
std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}
std::string decode_error(const std::string& bytes) {
  try {
    thor::detail::decode_image("x.jpg", bytes, 3);
  } catch (const thor::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("decode_image refuses what stb_image mishandles (found by fuzz/fuzz_image)") {
  const auto has = [](const std::string& error, const std::string& part) {
    REQUIRE_MESSAGE(error.find(part) != std::string::npos, error);
  };
  // A JPEG Huffman table of 16 x 255 codes: stb wrote past its 257-entry size table.
  has(decode_error(std::string("\xff\xd8\xff\xc4\x00\x13\x00", 7) + std::string(16, '\xff')),
      "x.jpg: cannot decode image (corrupt JPEG: a Huffman table of 4080 codes, at most 256)");
  // A PNG chunk claiming 2 GiB: stb allocated it before reading.
  const std::string png = "\x89PNG\r\n\x1a\n" + be32(13) + "IHDR" + be32(5000) + be32(5000) +
                          std::string("\x08\x00\x00\x00\x00", 5) + be32(0);
  has(decode_error(png + be32(0x7fffffff) + "IDAT"),
      "x.jpg: cannot decode image (truncated PNG: chunk 'IDAT' of 2147483647 bytes, 0 left");
  // 5000 x 5000 pixels from a 45-byte header: refused before stb allocates them.
  has(decode_error(png + be32(0) + "IEND" + be32(0)), "x.jpg: image of 5000x5000 pixels");
  // A BMP of 0 rows decoded "successfully".
  const std::string bmp = "BM" + le(54, 4) + le(0, 4) + le(54, 4) + le(40, 4) + le(4, 4) +
                          le(0, 4) + le(1, 2) + le(24, 2) + std::string(24, '\0');
  has(decode_error(bmp), "x.jpg: cannot decode image (4x0 pixels)");
  // Formats other than JPEG, PNG and BMP are not decoded at all.
  has(decode_error("GIF89a" + std::string(32, '\0')), "x.jpg: cannot decode image (");
}
