#include "thor/fake_celeba.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <vector>

#include "image.hpp"
#include "thor/dataset.hpp"
#include "thor/io.hpp"

namespace thor {

void write_fake_celeba(const std::string& root, int n_images, uint64_t seed) {
  if (n_images < 1 || n_images > 999999)
    throw InputError("write_fake_celeba: n_images = " + std::to_string(n_images) +
                     "; expected 1..999999");
  namespace fs = std::filesystem;
  const fs::path dir(root);
  fs::create_directories(dir / "img_align_celeba");

  constexpr int kWidth = 178, kHeight = 218;
  const auto& names = celeba_attribute_names();
  const size_t male_column =
      static_cast<size_t>(std::find(names.begin(), names.end(), "Male") - names.begin());
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> noise(-18, 18), jitter(-14, 14), coin(0, 1);
  std::uniform_int_distribution<int> grey(95, 160);
  const int phase = static_cast<int>(seed & 1);

  std::string attrs = std::to_string(n_images) + "\n";
  for (const auto& n : names) attrs += n + " ";
  attrs += "\n";
  std::string partitions;
  std::vector<uint8_t> pixels(static_cast<size_t>(kWidth) * kHeight * 3);

  for (int i = 0; i < n_images; ++i) {
    char file[16];
    std::snprintf(file, sizeof file, "%06d.jpg", i + 1);
    const int j = i % 10;
    const int partition = j < 7 ? 0 : (j == 7 ? 1 : 2);
    const bool male = (i / 10 + j + phase) % 2 == 1;

    // Noisy grey background, then an ellipse: bright and bluish for Male.
    const int base = grey(rng);
    const int cx = kWidth / 2 + jitter(rng), cy = kHeight / 2 + jitter(rng);
    const double rx = 48 + jitter(rng) / 2, ry = 62 + jitter(rng) / 2;
    const int blob[3] = {male ? 200 : 70, male ? 210 : 40, male ? 240 : 35};
    for (int y = 0; y < kHeight; ++y) {
      for (int x = 0; x < kWidth; ++x) {
        const double dx = (x - cx) / rx, dy = (y - cy) / ry;
        const bool inside = dx * dx + dy * dy <= 1.0;
        for (int c = 0; c < 3; ++c) {
          const int v = (inside ? blob[c] : base) + noise(rng);
          pixels[(static_cast<size_t>(y) * kWidth + x) * 3 + c] =
              static_cast<uint8_t>(std::clamp(v, 0, 255));
        }
      }
    }
    write_file_atomic((dir / "img_align_celeba" / file).string(),
                      detail::encode_jpeg(kWidth, kHeight, 3, pixels.data(), 95));

    attrs += file;
    for (size_t a = 0; a < names.size(); ++a) {
      const bool on = a == male_column ? male : coin(rng) == 1;
      attrs += on ? "  1" : " -1";  // the real file pads values to width 2
    }
    attrs += "\n";
    partitions += std::string(file) + " " + std::to_string(partition) + "\n";
  }
  write_file_atomic((dir / "list_attr_celeba.txt").string(), attrs);
  write_file_atomic((dir / "list_eval_partition.txt").string(), partitions);
}

}  // namespace thor
