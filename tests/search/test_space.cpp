// Search spaces: parsing, validation, sampling, mutation, structures.
#include <doctest/doctest.h>

#include <set>

#include "search_fixture.hpp"

using namespace thor;
using namespace thor::search;
using thor::search::testing::tiny_space;

namespace {
SearchSpace parse_text(const std::string& text) {
  return parse_space(load_yaml_text(text, "space.yaml"));
}
}  // namespace

TEST_CASE("a space parses lists and ranges and builds valid networks") {
  const SearchSpace s = parse_text(
      "input: [1, 28, 28]\nclasses: 10\nconv_blocks: {min: 1, max: 3}\nchannels: {min: 4, max: 32, "
      "factor: 2}\n"
      "kernels: [3, 5]\npooling: [max, avg]\nlinear_layers: [0, 1]\nlinear_widths: {min: 32, max: "
      "96, step: 32}\n");
  CHECK(s.conv_blocks == std::vector<int64_t>{1, 2, 3});
  CHECK(s.channels == std::vector<int64_t>{4, 8, 16, 32});
  CHECK(s.linear_widths == std::vector<int64_t>{32, 64, 96});
  CHECK(s.num_structures() == 1u * 2 * 2 * 3 * 2);
  const auto skel = s.skeletons();
  REQUIRE(skel.size() == s.num_structures());
  std::set<size_t> idx;
  for (size_t i = 0; i < skel.size(); ++i) {
    CHECK(s.structure_index(skel[i]) == i);
    idx.insert(s.structure_index(skel[i]));
    CHECK_NOTHROW(s.build(skel[i]).validate());
    CHECK(s.build(skel[i]).num_outputs() == 10);
  }
  // size = structures' channel combinations: (4 + 16 + 64) * (1 + 3) * 2 kernels * 2 pools
  CHECK(s.size() == doctest::Approx(84.0 * 4 * 4));
}

TEST_CASE("sampling and mutation stay in the space; mutation changes one choice") {
  const SearchSpace s = tiny_space();
  Rng rng(7);
  for (int i = 0; i < 500; ++i) {
    const Genome g = s.sample(rng);
    REQUIRE(s.contains(g));
    const Genome m = s.mutate(g, rng);
    REQUIRE_MESSAGE(s.contains(m), g.to_string() << " -> " << m.to_string());
    int changes = (g.batch_size != m.batch_size) + (g.kernel != m.kernel) +
                  (g.pooling != m.pooling) + (g.conv.size() != m.conv.size()) +
                  (g.linear.size() != m.linear.size());
    if (g.conv.size() == m.conv.size())
      for (size_t k = 0; k < g.conv.size(); ++k) changes += g.conv[k] != m.conv[k];
    if (g.linear.size() == m.linear.size())
      for (size_t k = 0; k < g.linear.size(); ++k) changes += g.linear[k] != m.linear[k];
    CHECK(changes <= 1);
    const Genome c = s.crossover(g, m, rng);
    CHECK(s.contains(c));
  }
}

TEST_CASE("genomes round-trip through JSON") {
  Rng rng(3);
  const Genome g = tiny_space().sample(rng);
  CHECK(Genome::from_json(g.to_json(), "x") == g);
  CHECK_THROWS_AS(Genome::from_json(nlohmann::json{{"kernel", 3}}, "ck.json"), InputError);
}

TEST_CASE("bad spaces are one clear error naming the key") {
  auto msg = [](const std::string& text) {
    try {
      parse_text(text);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(msg("channels: [0, 4]\n").find("key 'channels': value 0 out of range") !=
        std::string::npos);
  CHECK(msg("channels: []\n").find("expected at least one value") != std::string::npos);
  CHECK(msg("channels: [4, 4]\n").find("appears twice") != std::string::npos);
  CHECK(msg("chanels: [4]\n").find("unknown key") != std::string::npos);
  CHECK(msg("pooling: [max, median]\n").find("expected max, avg or none, got 'median'") !=
        std::string::npos);
  CHECK(msg("channels: {min: 8, max: 4}\n").find("below min") != std::string::npos);
  CHECK(msg("channels: fast\n").find("space.yaml:1: key 'channels'") != std::string::npos);
  // Five 2x2 pools cannot fit 8x8 inputs.
  const std::string impossible = msg("input: [1, 8, 8]\nconv_blocks: [5]\n");
  CHECK_MESSAGE(impossible.find("impossible network") != std::string::npos, impossible);
  CHECK(msg("input: [1, 28]\n").find("expected [C, H, W]") != std::string::npos);
  // Found by fuzz/fuzz_space: 65536 values were checked for repeats pair by
  // pair (a minute for a 34-byte file); now sorted, then counted as structures.
  CHECK(msg("batch_size: {min: 1, max: 65536}\n").find("more than 4096") != std::string::npos);
  CHECK(msg("channels: [8, 4, 2, 4]\n").find("value 4 appears twice") != std::string::npos);
}
