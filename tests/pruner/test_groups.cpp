// Channel groups: which widths of a block network are pruned together, and
// that every configuration of counts gives a legal network.
#include <doctest/doctest.h>

#include <random>

#include "thor/layer_kind.hpp"
#include "thor/pruner/groups.hpp"
#include "thor/pruner/strategy.hpp"
#include "thor_test_support.hpp"

using namespace thor;
using namespace thor::pruner;

namespace {

Architecture example(const std::string& name) {
  return load_architecture(std::string(THOR_SOURCE_DIR) + "/recipes/arch/" + name + ".yaml");
}

// Every identity shortcut of `base` is still one in `a` (the block's input
// width equals its width), and every encoder's model dimension is a
// multiple of its heads: what validate() alone would not catch for ties.
void check_legal(const Architecture& base, const Architecture& a) {
  a.validate();
  const auto bi = base.infer(), ai = a.infer();
  for (size_t i = 0; i < a.layers.size(); ++i) {
    const Layer& l = a.layers[i];
    const bool tied_before = (l.type == LayerType::residual || l.type == LayerType::bottleneck) &&
                             l.effective_stride() == 1 &&
                             layout_width(bi[i].in_shape, bi[i].in_layout) == base.layers[i].out;
    if (tied_before) CHECK(layout_width(ai[i].in_shape, ai[i].in_layout) == l.out);
    if (l.type == LayerType::encoder)
      CHECK(layout_width(ai[i].in_shape, ai[i].in_layout) % l.heads == 0);
  }
}

}  // namespace

TEST_CASE("groups: a ResNet-20 prunes its three stages, each across its shortcuts") {
  const Architecture a = example("resnet20");
  const ChannelGroups g = ChannelGroups::of(a);
  REQUIRE(g.size() == 3);
  CHECK(g.baseline() == ChannelConfig{16, 32, 64});
  CHECK(g.groups()[0].describe(a) == "conv@0 + residual@3,4,5");
  CHECK(g.groups()[1].describe(a) == "residual@6,7,8");
  CHECK(g.groups()[2].describe(a) == "residual@9,10,11");
  CHECK(g.multiples() == std::vector<int64_t>{1, 1, 1});
  const Architecture small = g.apply({5, 17, 40});
  CHECK(small.channels() == std::vector<int64_t>{5, 5, 5, 5, 17, 17, 17, 40, 40, 40, 10});
  check_legal(a, small);
}

TEST_CASE("groups: a Transformer prunes D in head multiples and each feed-forward freely") {
  const Architecture a = example("transformer_fmnist");
  const ChannelGroups g = ChannelGroups::of(a);
  REQUIRE(g.size() == 3);
  CHECK(g.baseline() == ChannelConfig{64, 128, 128});
  CHECK(g.multiples() == std::vector<int64_t>{4, 1, 1});
  CHECK(g.groups()[1].describe(a) == "encoder@1");
  check_legal(a, g.apply({12, 7, 100}));
  CHECK_THROWS_AS(g.apply({10, 7, 100}), InputError);  // 10 is not a multiple of 4 heads
}

TEST_CASE("groups: LSTMs, 1-D CNNs and embeddings each start a group") {
  const Architecture lstm = architecture_from_yaml_text(R"(
input: [12, 5]
layout: sequence
batch_size: 4
layers:
  - lstm: {hidden: 16, layers: 2}
  - lstm: {hidden: 8}
  - last
  - linear: {out: 3}
)");
  CHECK(ChannelGroups::of(lstm).baseline() == ChannelConfig{16, 8});
  const Architecture har = example("har_cnn");
  const ChannelGroups gh = ChannelGroups::of(har);
  CHECK(gh.size() == har.channels().size() - 1);  // no ties in a plain 1-D CNN
  const Architecture tok = architecture_from_yaml_text(R"(
input: [10]
layout: tokens
batch_size: 4
layers:
  - embedding: {vocab: 50, dim: 12}
  - encoder: {heads: 3, ff: 20}
  - global_avgpool
  - linear: {out: 2}
)");
  const ChannelGroups gt = ChannelGroups::of(tok);
  CHECK(gt.baseline() == ChannelConfig{12, 20});
  CHECK(gt.multiples() == std::vector<int64_t>{3, 1});
  check_legal(tok, gt.apply({6, 5}));
}

TEST_CASE("groups: a bottleneck stage keeps its inner ratio exact") {
  const Architecture a = architecture_from_yaml_text(R"(
input: [3, 8, 8]
batch_size: 4
layers:
  - conv: {out: 16, kernel: 3, padding: 1}
  - bottleneck: {mid: 4, out: 16}
  - bottleneck: {mid: 8, out: 32, stride: 2}
  - global_avgpool
  - linear: {out: 2}
)");
  const ChannelGroups g = ChannelGroups::of(a);
  REQUIRE(g.size() == 2);
  CHECK(g.multiples() == std::vector<int64_t>{4, 4});
  const Architecture small = g.apply({8, 12});
  CHECK(small.layers[1].mid == 2);
  CHECK(small.layers[2].mid == 3);
  check_legal(a, small);
}

TEST_CASE("groups: every strategy draw is a legal network") {
  for (const char* name : {"resnet8", "resnet20", "transformer_fmnist", "lstm_fmnist", "har_cnn"}) {
    CAPTURE(name);
    const Architecture a = example(name);
    const ChannelGroups g = ChannelGroups::of(a);
    const PruneSpace space = PruneSpace::from_baseline(g.baseline(), 0.2, g.multiples());
    std::mt19937_64 rng(3);
    for (const auto& c : make_pruning_strategy("random")->propose(space, 40, rng)) {
      g.check(c);
      check_legal(a, g.apply(c));
    }
  }
}

TEST_CASE("groups: bad configurations and unprunable networks are InputErrors") {
  const ChannelGroups g = ChannelGroups::of(example("resnet8"));
  CHECK_THROWS_WITH_AS(g.check({8}), doctest::Contains("one per group"), InputError);
  CHECK_THROWS_WITH_AS(g.check({0, 8, 8}), doctest::Contains("group 0"), InputError);
  CHECK_THROWS_WITH_AS(g.check({16, 64, 8}), doctest::Contains("group 1"), InputError);
  // Every hidden width follows the data through identity shortcuts.
  const Architecture fixed = architecture_from_yaml_text(R"(
input: [4, 6, 6]
batch_size: 4
layers:
  - residual: {out: 4}
  - residual: {out: 4}
  - global_avgpool
  - linear: {out: 2}
)");
  CHECK_THROWS_WITH_AS(ChannelGroups::of(fixed), doctest::Contains("no width"), InputError);
}
