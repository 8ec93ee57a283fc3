// Random members of a model family, for the held-out accuracy benchmark
// (accuracy.py): every width uniform in 1..the base's, made legal the way
// profiling anchors are (identity shortcuts kept, encoder widths on their
// head multiples; thor::conform_widths), written as architecture YAML.
//
//   bench_members --arch recipes/arch/resnet20.yaml --count 20 --seed 2026 --out DIR
// writes DIR/<stem>.<i>.yaml and prints each one's path and widths.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>

#include "thor/architecture.hpp"
#include "thor/io.hpp"
#include "thor/layer_kind.hpp"

int main(int argc, char** argv) {
  std::string arch_path, out = ".";
  int count = 20;
  uint64_t seed = 2026;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--arch")
      arch_path = v;
    else if (k == "--count")
      count = std::atoi(v.c_str());
    else if (k == "--seed")
      seed = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--out")
      out = v;
  }
  try {
    const thor::Architecture base = thor::load_architecture(arch_path);
    const std::string stem = std::filesystem::path(arch_path).stem().string();
    std::mt19937_64 rng(seed);
    const auto ch = base.channels();
    for (int n = 0; n < count; ++n) {
      std::vector<int64_t> c;
      for (size_t k = 0; k + 1 < ch.size(); ++k)
        c.push_back(std::uniform_int_distribution<int64_t>(1, ch[k])(rng));
      const thor::Architecture a = thor::conform_widths(base, c);
      const std::string path = out + "/" + stem + "." + std::to_string(n) + ".yaml";
      thor::write_file_atomic(path, a.to_yaml());
      std::cout << path;
      for (int64_t w : a.channels()) std::cout << " " << w;
      std::cout << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_members: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
