// IDX files (MNIST format), plain and gzipped, and Debian's Fashion-MNIST.
#include <doctest/doctest.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "temp_dir.hpp"
#include "thor/dataset.hpp"

namespace {

using thor::test::input_error_of;
using thor::test::TempDir;
using thor::test::write_bytes;

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

/// IDX images whose pixel k of image i is (i * 31 + k * 7) % 256.
std::string idx_images(uint32_t n, uint32_t h, uint32_t w) {
  std::string s = be32(0x803) + be32(n) + be32(h) + be32(w);
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t k = 0; k < h * w; ++k) s += static_cast<char>((i * 31 + k * 7) % 256);
  return s;
}

std::string idx_labels(const std::vector<uint8_t>& labels) {
  std::string s = be32(0x801) + be32(static_cast<uint32_t>(labels.size()));
  for (uint8_t l : labels) s += static_cast<char>(l);
  return s;
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

void check_small(const thor::Dataset& d, int64_t n) {
  REQUIRE(d.size() == n);
  CHECK(d.sample_shape == std::vector<int64_t>{1, 4, 3});
  CHECK(d.num_classes == 10);
  REQUIRE(d.data.size() == static_cast<size_t>(n * 12));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < 12; ++k)
      CHECK(d.data[i * 12 + k] == static_cast<float>((i * 31 + k * 7) % 256) / 255.f);
  const std::vector<int64_t> labels = {3, 0, 9, 7, 1};
  CHECK(d.labels == std::vector<int64_t>(labels.begin(), labels.begin() + n));
}

const std::vector<uint8_t> kLabels = {3, 0, 9, 7, 1};

}  // namespace

TEST_CASE("load_idx reads plain and gzipped IDX files") {
  TempDir dir;
  write_bytes(dir / "img", idx_images(5, 4, 3));
  write_bytes(dir / "lbl", idx_labels(kLabels));
  write_gz(dir / "img.gz", idx_images(5, 4, 3));
  write_gz(dir / "lbl.gz", idx_labels(kLabels));

  SUBCASE("plain") { check_small(thor::load_idx(dir / "img", dir / "lbl"), 5); }
  SUBCASE("gzip") { check_small(thor::load_idx(dir / "img.gz", dir / "lbl.gz"), 5); }
  SUBCASE("mixed") { check_small(thor::load_idx(dir / "img", dir / "lbl.gz"), 5); }
  SUBCASE("limit keeps the first samples") {
    check_small(thor::load_idx(dir / "img.gz", dir / "lbl.gz", 2), 2);
    check_small(thor::load_idx(dir / "img", dir / "lbl", 100), 5);
  }
  SUBCASE("limit 0 is an error") {
    CHECK(input_error_of([&] { thor::load_idx(dir / "img", dir / "lbl", 0); }).find("limit = 0") !=
          std::string::npos);
  }
  SUBCASE("pixel values span [0, 1]") {
    write_bytes(dir / "img2",
                be32(0x803) + be32(1) + be32(1) + be32(2) + std::string("\x00\xff", 2));
    write_bytes(dir / "lbl2", idx_labels({4}));
    const auto d = thor::load_idx(dir / "img2", dir / "lbl2");
    CHECK(d.data == std::vector<float>{0.f, 1.f});
  }
  SUBCASE("num_classes grows past 10 with larger labels") {
    write_bytes(dir / "lbl3", idx_labels({3, 0, 12, 7, 1}));
    CHECK(thor::load_idx(dir / "img", dir / "lbl3").num_classes == 13);
    // ... counted over the whole file, not just the first `limit` samples.
    CHECK(thor::load_idx(dir / "img", dir / "lbl3", 1).num_classes == 13);
  }
}

TEST_CASE("load_idx errors name the file and what was expected") {
  TempDir dir;
  write_bytes(dir / "img", idx_images(5, 4, 3));
  write_bytes(dir / "lbl", idx_labels(kLabels));

  SUBCASE("missing file") {
    const std::string msg =
        input_error_of([&] { thor::load_idx(dir / "nope-images", dir / "lbl"); });
    CHECK(msg.rfind(dir / "nope-images", 0) == 0);
    CHECK(msg.find("no such file") != std::string::npos);
    const std::string msg2 =
        input_error_of([&] { thor::load_idx(dir / "img", dir / "nope-labels"); });
    CHECK(msg2.find("nope-labels") != std::string::npos);
  }
  SUBCASE("truncated plain file") {
    const std::string full = idx_images(5, 4, 3);
    write_bytes(dir / "short", full.substr(0, full.size() - 7));
    const std::string msg = input_error_of([&] { thor::load_idx(dir / "short", dir / "lbl"); });
    INFO(msg);
    CHECK(msg.rfind(dir / "short", 0) == 0);
    CHECK(msg.find("truncated") != std::string::npos);
    CHECK(msg.find("expected 76 bytes") != std::string::npos);  // 16 + 5*4*3
    CHECK(msg.find("got 69") != std::string::npos);
  }
  SUBCASE("truncated header") {
    write_bytes(dir / "tiny", be32(0x803) + be32(5));
    const std::string msg = input_error_of([&] { thor::load_idx(dir / "tiny", dir / "lbl"); });
    INFO(msg);
    CHECK(msg.find("tiny") != std::string::npos);
    CHECK(msg.find("truncated") != std::string::npos);
  }
  SUBCASE("trailing bytes") {
    write_bytes(dir / "long", idx_images(5, 4, 3) + "xx");
    const std::string msg = input_error_of([&] { thor::load_idx(dir / "long", dir / "lbl"); });
    INFO(msg);
    CHECK(msg.find("long") != std::string::npos);
    CHECK(msg.find("got 78") != std::string::npos);
  }
  SUBCASE("truncated gzip file") {
    write_gz(dir / "img.gz", idx_images(200, 28, 28));
    std::string bytes;
    {
      std::ifstream in(dir / "img.gz", std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    write_bytes(dir / "cut.gz", bytes.substr(0, bytes.size() / 2));
    const std::string msg = input_error_of([&] { thor::load_idx(dir / "cut.gz", dir / "lbl"); });
    INFO(msg);
    CHECK(msg.rfind(dir / "cut.gz", 0) == 0);
  }
  SUBCASE("wrong magic: images and labels swapped") {
    const std::string msg = input_error_of([&] { thor::load_idx(dir / "lbl", dir / "img"); });
    INFO(msg);
    CHECK(msg.rfind(dir / "lbl", 0) == 0);
    CHECK(msg.find("expected 0x00000803") != std::string::npos);
    CHECK(msg.find("got 0x00000801") != std::string::npos);
  }
  SUBCASE("wrong magic: not IDX at all") {
    write_bytes(dir / "text", "hello world, this is not an IDX file");
    const std::string msg = input_error_of([&] { thor::load_idx(dir / "text", dir / "lbl"); });
    INFO(msg);
    CHECK(msg.find("text") != std::string::npos);
    CHECK(msg.find("magic") != std::string::npos);
  }
  SUBCASE("count mismatch names both files") {
    write_bytes(dir / "lbl4", idx_labels({1, 2, 3, 4}));
    const std::string msg = input_error_of([&] { thor::load_idx(dir / "img", dir / "lbl4"); });
    INFO(msg);
    CHECK(msg.find(dir / "img") != std::string::npos);
    CHECK(msg.find(dir / "lbl4") != std::string::npos);
    CHECK(msg.find("5 images") != std::string::npos);
    CHECK(msg.find("4 labels") != std::string::npos);
  }
}

TEST_CASE("load_mnist_folder finds plain or gzipped files by their MNIST names") {
  TempDir dir;
  write_gz(dir / "train-images-idx3-ubyte.gz", idx_images(5, 4, 3));
  write_gz(dir / "train-labels-idx1-ubyte.gz", idx_labels(kLabels));
  write_bytes(dir / "t10k-images-idx3-ubyte", idx_images(5, 4, 3));
  write_bytes(dir / "t10k-labels-idx1-ubyte", idx_labels(kLabels));

  const auto train = thor::load_mnist_folder(dir.str(), thor::Split::train);
  check_small(train, 5);
  CHECK(train.name == std::filesystem::path(dir.str()).filename().string() + "/train");
  check_small(thor::load_mnist_folder(dir.str(), thor::Split::test, 3), 3);

  SUBCASE("missing split names the folder, the files and the Debian package") {
    std::filesystem::remove(dir / "t10k-labels-idx1-ubyte");
    const std::string msg =
        input_error_of([&] { thor::load_mnist_folder(dir.str(), thor::Split::test); });
    INFO(msg);
    CHECK(msg.rfind(dir.str(), 0) == 0);
    CHECK(msg.find("t10k-images-idx3-ubyte") != std::string::npos);
    CHECK(msg.find("t10k-labels-idx1-ubyte") != std::string::npos);
    CHECK(msg.find("dataset-fashion-mnist") != std::string::npos);
    CHECK(msg.find("/usr/share/datasets/fashion-mnist") != std::string::npos);
  }
  SUBCASE("missing folder") {
    const std::string msg = input_error_of(
        [&] { thor::load_mnist_folder(dir / "no-such-folder", thor::Split::train); });
    INFO(msg);
    CHECK(msg.find("no-such-folder") != std::string::npos);
    CHECK(msg.find("does not exist") != std::string::npos);
  }
  SUBCASE("labels must be below 10") {
    write_bytes(dir / "t10k-labels-idx1-ubyte", idx_labels({3, 0, 10, 7, 1}));
    const std::string msg =
        input_error_of([&] { thor::load_mnist_folder(dir.str(), thor::Split::test); });
    INFO(msg);
    CHECK(msg.rfind(dir / "t10k-labels-idx1-ubyte", 0) == 0);
    CHECK(msg.find("label 10 at index 2") != std::string::npos);
    CHECK(msg.find("expected 0..9") != std::string::npos);
  }
}

TEST_CASE("Debian's Fashion-MNIST loads") {
  // scripts/test installs dataset-fashion-mnist; its absence is a setup error.
  REQUIRE_MESSAGE(std::filesystem::is_directory(thor::kFashionMnistDir),
                  thor::kFashionMnistDir
                      << " is missing: install Debian's dataset-fashion-mnist package "
                         "(scripts/test does)");
  const auto train = thor::load_mnist_folder(thor::kFashionMnistDir, thor::Split::train);
  const auto test = thor::load_mnist_folder(thor::kFashionMnistDir, thor::Split::test);
  CHECK(train.name == "fashion-mnist/train");
  CHECK(test.name == "fashion-mnist/test");
  REQUIRE(train.size() == 60000);
  REQUIRE(test.size() == 10000);
  CHECK(train.sample_shape == std::vector<int64_t>{1, 28, 28});
  CHECK(test.sample_shape == std::vector<int64_t>{1, 28, 28});
  CHECK(train.num_classes == 10);
  CHECK(train.data.size() == size_t{60000} * 784);
  // Fashion-MNIST is balanced: 6000 train and 1000 test images per class.
  for (int64_t c = 0; c < 10; ++c) {
    CHECK(std::count(train.labels.begin(), train.labels.end(), c) == 6000);
    CHECK(std::count(test.labels.begin(), test.labels.end(), c) == 1000);
  }
  CHECK(train.labels[0] == 9);  // the first image of both splits is an ankle boot
  CHECK(test.labels[0] == 9);
  const auto [lo, hi] = std::minmax_element(train.data.begin(), train.data.end());
  CHECK(*lo == 0.f);
  CHECK(*hi == 1.f);
  CHECK(thor::load_mnist_folder(thor::kFashionMnistDir, thor::Split::test, 10).size() == 10);
}
