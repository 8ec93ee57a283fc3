// Weight surgery on the block families: removing channels whose producing
// weights are zero must leave the network's outputs unchanged (ResNet
// stages across their shortcuts, bottlenecks, 1-D CNNs, stacked LSTMs, an
// encoder's feed-forward units), and every pruned model must have the
// shapes and parameter count of its pruned architecture.
#include <set>

#include "thor/detail/torch_blocks.hpp"
#include "thor/pruner/surgery.hpp"
#include "thor_test_support.hpp"
#include "thor_torch_doctest.hpp"

using namespace thor;
using namespace thor::pruner;

namespace {

Architecture example(const std::string& name) {
  return load_architecture(std::string(THOR_SOURCE_DIR) + "/recipes/arch/" + name + ".yaml");
}

torch::Tensor tensor(const Model& m, size_t layer, const std::string& name) {
  const auto& mod = *m.impl().modules[layer];
  const auto params = mod.named_parameters(true);  // find() points into it
  if (const auto* p = params.find(name)) return *p;
  const auto buffers = mod.named_buffers(true);
  return *buffers.find(name);
}

// Zeroes entries `idx` along dim 0 of the named tensors of a layer.
void zero_rows(Model& m, size_t layer, const std::vector<std::string>& names,
               const std::vector<int64_t>& idx) {
  torch::NoGradGuard g;
  for (const auto& n : names)
    for (int64_t r : idx) tensor(m, layer, n)[r].zero_();
}

int64_t param_count(const Model& m) {
  int64_t n = 0;
  for (const auto& p : m.impl().net->parameters()) n += p.numel();
  return n;
}

torch::Tensor forward(Model& m, const torch::Tensor& x) {
  torch::NoGradGuard g;
  m.impl().net->eval();
  return m.impl().net->forward(x);
}

torch::Tensor batch_of(const Architecture& a, int64_t n) {
  std::vector<int64_t> shape{n};
  shape.insert(shape.end(), a.input.begin(), a.input.end());
  torch::manual_seed(7);
  return torch::rand(shape);
}

void train_a_little(Model& m) {
  const Architecture& a = m.architecture();
  const Dataset data = random_dataset(a.input, 64, a.num_outputs(), 5);
  TrainOptions t;
  t.iterations = 6;
  t.lr = 0.01;
  m.train(data, t);
}

// The channels of a group that `keep` drops.
std::vector<int64_t> dropped(int64_t width, const std::vector<int64_t>& keep) {
  const std::set<int64_t> kept(keep.begin(), keep.end());
  std::vector<int64_t> d;
  for (int64_t c = 0; c < width; ++c)
    if (!kept.count(c)) d.push_back(c);
  return d;
}

// After `zero` silenced the dropped channels of `orig`, L1 selection must
// choose exactly `keep`, and the pruned model must compute what `orig` does.
void check_exact(Model& orig, const KeepIndices& keep) {
  const ChannelConfig sizes = [&] {
    ChannelConfig s;
    for (const auto& k : keep) s.push_back(static_cast<int64_t>(k.size()));
    return s;
  }();
  CHECK(select_channels_l1(orig, sizes) == keep);
  Model small = prune_model(orig, keep);
  const Architecture want = ChannelGroups::of(orig.architecture()).apply(sizes);
  CHECK(small.architecture() == want);
  CHECK(param_count(small) == want.params());
  const torch::Tensor x = batch_of(orig.architecture(), 5);
  const torch::Tensor a = forward(orig, x), b = forward(small, x);
  REQUIRE(a.sizes() == b.sizes());
  CHECK_MESSAGE(torch::allclose(a, b, 1e-4, 1e-5),
                "max difference " << (a - b).abs().max().item<double>());
}

const std::vector<std::string> kBn = {"weight", "bias"};

}  // namespace

TEST_CASE("block surgery: a ResNet stage loses the same channels across its shortcuts") {
  Model m(example("resnet8"), 2);
  train_a_little(m);
  // Groups: conv@0 + residual@3 (16), residual@4 (32), residual@5 (64).
  const KeepIndices keep{{0, 2, 3, 5, 6, 7, 9, 10, 12, 14}, {1, 2, 4, 8, 16, 31}, dropped(64, {5})};
  const auto d0 = dropped(16, keep[0]), d1 = dropped(32, keep[1]), d2 = dropped(64, keep[2]);
  zero_rows(m, 0, {"weight", "bias"}, d0);  // the stem conv
  zero_rows(m, 1, kBn, d0);                 // and its batch norm
  zero_rows(m, 3, {"bn2.weight", "bn2.bias"}, d0);
  for (size_t layer : {4, 5}) {
    const auto& d = layer == 4 ? d1 : d2;
    zero_rows(m, layer, {"bn2.weight", "bn2.bias", "downsample.1.weight", "downsample.1.bias"}, d);
  }
  // Each block's inner width shrinks with its stage, by its own choice.
  zero_rows(m, 3, {"bn1.weight", "bn1.bias"}, {1, 4, 8, 11, 13, 15});
  zero_rows(m, 4, {"bn1.weight", "bn1.bias"}, dropped(32, {0, 5, 9, 10, 20, 30}));
  zero_rows(m, 5, {"bn1.weight", "bn1.bias"}, {63});
  check_exact(m, keep);
}

TEST_CASE("block surgery: bottlenecks prune their stage and their inner width") {
  Model m(architecture_from_yaml_text(R"(
input: [3, 8, 8]
batch_size: 8
layers:
  - conv: {out: 16, kernel: 3, padding: 1}
  - batchnorm
  - relu
  - bottleneck: {mid: 4, out: 16}
  - bottleneck: {mid: 8, out: 32, stride: 2}
  - global_avgpool
  - linear: {out: 3}
)"),
          4);
  train_a_little(m);
  const KeepIndices keep{{1, 2, 3, 5, 8, 9, 12, 15}, {0, 4, 6, 7, 10, 11, 20, 21, 22, 25, 27, 30}};
  const auto d0 = dropped(16, keep[0]), d1 = dropped(32, keep[1]);
  zero_rows(m, 0, {"weight", "bias"}, d0);
  zero_rows(m, 1, kBn, d0);
  zero_rows(m, 3, {"bn3.weight", "bn3.bias"}, d0);
  zero_rows(m, 4, {"bn3.weight", "bn3.bias", "downsample.1.weight", "downsample.1.bias"}, d1);
  // Inner widths follow at the blocks' ratio: 4 → 2 and 8 → 3 kept, each
  // inner conv by its own choice.
  zero_rows(m, 3, {"conv1.weight", "bn1.weight", "bn1.bias"}, {0, 3});
  zero_rows(m, 3, {"bn2.weight", "bn2.bias"}, {1, 3});
  zero_rows(m, 4, {"conv1.weight", "bn1.weight", "bn1.bias"}, {1, 2, 4, 6, 7});
  zero_rows(m, 4, {"bn2.weight", "bn2.bias"}, {0, 1, 2, 3, 5});
  check_exact(m, keep);
}

TEST_CASE("block surgery: a 1-D CNN") {
  Model m(architecture_from_yaml_text(R"(
input: [3, 20]
layout: channels
batch_size: 8
layers:
  - conv1d: {out: 6, kernel: 3, padding: 1}
  - relu
  - maxpool1d: 2
  - conv1d: {out: 5, kernel: 3}
  - relu
  - flatten
  - linear: {out: 7}
  - relu
  - linear: {out: 2}
)"),
          5);
  train_a_little(m);
  const KeepIndices keep{{0, 2, 5}, {1, 3}, {0, 1, 2, 6}};
  zero_rows(m, 0, {"weight", "bias"}, dropped(6, keep[0]));
  zero_rows(m, 3, {"weight", "bias"}, dropped(5, keep[1]));
  zero_rows(m, 6, {"weight", "bias"}, dropped(7, keep[2]));
  check_exact(m, keep);
}

TEST_CASE("block surgery: stacked LSTMs lose whole units in all four gates") {
  Model m(architecture_from_yaml_text(R"(
input: [9, 4]
layout: sequence
batch_size: 8
layers:
  - lstm: {hidden: 6, layers: 2}
  - lstm: {hidden: 5}
  - last
  - linear: {out: 3}
)"),
          6);
  train_a_little(m);
  const KeepIndices keep{{1, 2, 4}, {0, 3}};
  // A unit whose gate rows are zero stays at zero: c = f·c + i·tanh(0) = 0.
  auto silence = [&](size_t layer, int64_t d, int64_t hidden, const std::vector<int64_t>& units) {
    std::vector<int64_t> rows;
    for (int64_t g = 0; g < 4; ++g)
      for (int64_t u : units) rows.push_back(g * hidden + u);
    const std::string s = std::to_string(d);
    zero_rows(m, layer,
              {"lstm.weight_ih_l" + s, "lstm.weight_hh_l" + s, "lstm.bias_ih_l" + s,
               "lstm.bias_hh_l" + s},
              rows);
  };
  silence(0, 0, 6, {0, 3, 5});  // the lower stacked layer: its own (weakest) units
  silence(0, 1, 6, dropped(6, keep[0]));
  silence(1, 0, 5, dropped(5, keep[1]));
  check_exact(m, keep);
}

TEST_CASE("block surgery: an encoder's feed-forward units") {
  Model m(example("transformer_fmnist"), 8);
  train_a_little(m);
  const KeepIndices keep{dropped(64, {}), dropped(128, {3, 9, 100}), dropped(128, {0, 127})};
  zero_rows(m, 1, {"layer.linear1.weight", "layer.linear1.bias"}, {3, 9, 100});
  zero_rows(m, 2, {"layer.linear1.weight", "layer.linear1.bias"}, {0, 127});
  check_exact(m, keep);
}

TEST_CASE("block surgery: a Transformer's model dimension in head multiples") {
  // Layer norms average over D, so removing even zero dimensions changes the
  // outputs: check shapes, kept slices and that the pruned model learns.
  const Architecture a = example("transformer_fmnist");
  Model m(a, 9);
  train_a_little(m);
  const ChannelConfig sizes{32, 64, 96};
  const KeepIndices keep = select_channels_l1(m, sizes);
  Model small = prune_model(m, keep);
  CHECK(small.architecture() == ChannelGroups::of(a).apply(sizes));
  CHECK(param_count(small) == small.architecture().params());
  const torch::Tensor idx = torch::tensor(keep[0], torch::kInt64);
  CHECK(torch::equal(tensor(small, 2, "layer.norm2.weight"),
                     tensor(m, 2, "layer.norm2.weight").index_select(0, idx)));
  CHECK(torch::equal(tensor(small, 0, "weight"), tensor(m, 0, "weight").index_select(0, idx)));
  const torch::Tensor y = forward(small, batch_of(a, 4));
  CHECK(y.sizes() == torch::IntArrayRef{4, 10});
  CHECK(torch::isfinite(y).all().item<bool>());
}

TEST_CASE("block surgery: an embedding's dimension") {
  const Architecture a = architecture_from_yaml_text(R"(
input: [6]
layout: tokens
batch_size: 4
layers:
  - embedding: {vocab: 30, dim: 12}
  - encoder: {heads: 3, ff: 16}
  - global_avgpool
  - linear: {out: 2}
)");
  Model m(a, 10);
  const KeepIndices keep = select_channels_l1(m, {6, 8});
  Model small = prune_model(m, keep);
  const torch::Tensor idx = torch::tensor(keep[0], torch::kInt64);
  CHECK(torch::equal(tensor(small, 0, "embedding.weight"),
                     tensor(m, 0, "embedding.weight").index_select(1, idx)));
  CHECK(param_count(small) == small.architecture().params());
  const torch::Tensor tokens = torch::randint(0, 30, {3, 6}).to(torch::kFloat);
  CHECK(forward(small, tokens).sizes() == torch::IntArrayRef{3, 2});
}

TEST_CASE("block surgery: attention keeps whole heads' logits when D shrinks") {
  // D 8 → 4 with 2 heads: each head keeps 2 of its 4 dimensions. With the
  // dropped q/k/v dimensions silenced and the input zero on the dropped
  // model dimensions, the pruned attention computes the original's on the
  // kept dimensions — only if the queries are rescaled for the smaller head.
  Model m(architecture_from_yaml_text(R"(
input: [6, 5]
layout: sequence
batch_size: 8
layers:
  - linear: {out: 8}
  - encoder: {heads: 2, ff: 6}
  - global_avgpool
  - linear: {out: 2}
)"),
          11);
  train_a_little(m);
  const int64_t d = 8;
  // q/k dimensions dropped per head: {0, 3} and {5, 6}; v: {1, 2} and {4, 7}.
  std::vector<int64_t> qk{0, 3, 5, 6}, rows;
  for (int64_t r : qk) rows.insert(rows.end(), {r, d + r});
  for (int64_t r : {1, 2, 4, 7}) rows.push_back(2 * d + r);
  zero_rows(m, 1, {"layer.self_attn.in_proj_weight", "layer.self_attn.in_proj_bias"}, rows);
  {
    torch::NoGradGuard g;
    auto o = tensor(m, 1, "layer.self_attn.out_proj.weight");
    for (int64_t c : {1, 2, 4, 7}) o.select(1, c).zero_();
    // Sharper attention, so that a wrong logit scale shows plainly.
    tensor(m, 1, "layer.self_attn.in_proj_weight").narrow(0, 0, 2 * d).mul_(4.0);
  }
  const KeepIndices keep = select_channels_l1(m, {4, 6});
  Model small = prune_model(m, keep);

  auto attention = [](Model& model) {
    auto& enc = dynamic_cast<EncoderBlockImpl&>(*model.impl().modules[1]);
    return enc.layer->self_attn;
  };
  torch::manual_seed(3);
  torch::Tensor x = torch::rand({6, 3, d});  // [T, B, D], as LibTorch's attention takes it
  const torch::Tensor kd = torch::tensor(keep[0], torch::kInt64);
  torch::Tensor mask = torch::zeros({d});
  mask.index_fill_(0, kd, 1.0);
  x = x * mask;  // the dropped model dimensions carry nothing
  torch::NoGradGuard g;
  auto big_attn = attention(m), small_attn = attention(small);
  big_attn->eval();
  small_attn->eval();
  const torch::Tensor a = std::get<0>(big_attn->forward(x, x, x)).index_select(2, kd);
  const torch::Tensor xs = x.index_select(2, kd);
  const torch::Tensor b = std::get<0>(small_attn->forward(xs, xs, xs));
  CHECK_MESSAGE(torch::allclose(a, b, 1e-4, 1e-5),
                "max difference " << (a - b).abs().max().item<double>());
}
