// Weight surgery: the pruned model must compute what the original computes
// with the dropped channels zeroed, and hold exact slices of its weights.
// This suite includes LibTorch to look inside the modules.
#include <set>

#include "thor/pruner/surgery.hpp"
#include "thor_test_support.hpp"
#include "thor_torch_doctest.hpp"

using namespace thor;
using namespace thor::pruner;

namespace {

std::vector<size_t> param_layers(const Architecture& a) {
  std::vector<size_t> p;
  for (size_t i = 0; i < a.layers.size(); ++i)
    if (a.layers[i].parametric()) p.push_back(i);
  return p;
}

torch::Tensor weight(const Model& m, size_t layer) {
  const auto& mod = m.impl().modules[layer];
  if (auto c = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(mod)) return c->weight;
  return std::dynamic_pointer_cast<torch::nn::LinearImpl>(mod)->weight;
}
torch::Tensor bias(const Model& m, size_t layer) {
  const auto& mod = m.impl().modules[layer];
  if (auto c = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(mod)) return c->bias;
  return std::dynamic_pointer_cast<torch::nn::LinearImpl>(mod)->bias;
}

// Zeroes the dropped output channels of every prunable layer in `m`: their
// filters and biases, and the affine of a batch norm that follows.
void zero_dropped(Model& m, const KeepIndices& keep) {
  torch::NoGradGuard g;
  const auto& arch = m.architecture();
  const auto params = param_layers(arch);
  for (size_t k = 0; k < keep.size(); ++k) {
    const std::set<int64_t> kept(keep[k].begin(), keep[k].end());
    const size_t li = params[k];
    for (int64_t c = 0; c < arch.layers[li].out; ++c) {
      if (kept.count(c)) continue;
      weight(m, li)[c].zero_();
      bias(m, li)[c].zero_();
      for (size_t j = li + 1; j < arch.layers.size() && !arch.layers[j].parametric(); ++j) {
        const auto& mod = m.impl().modules[j];
        if (auto bn = std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(mod)) {
          bn->weight[c].zero_();
          bn->bias[c].zero_();
        } else if (auto bn1 = std::dynamic_pointer_cast<torch::nn::BatchNorm1dImpl>(mod)) {
          bn1->weight[c].zero_();
          bn1->bias[c].zero_();
        }
      }
    }
  }
}

torch::Tensor forward(Model& m, const torch::Tensor& x) {
  torch::NoGradGuard g;
  m.impl().net->eval();
  return m.impl().net->forward(x);
}

// Trains a little so weights and batch-norm statistics are not the defaults,
// prunes to `channels`, and checks slices and outputs.
void check_surgery(const std::string& yaml, const ChannelConfig& channels) {
  const Architecture arch = architecture_from_yaml_text(yaml);
  Model orig(arch, 3);
  const Dataset data = random_dataset(arch.input, 64, arch.num_outputs(), 5);
  TrainOptions t;
  t.iterations = 6;
  t.lr = 0.01;
  orig.train(data, t);

  const KeepIndices keep = select_channels_l1(orig, channels);
  REQUIRE(keep.size() == channels.size());
  Model small = prune_model(orig, keep);
  ChannelConfig want = channels;
  want.push_back(arch.num_outputs());
  CHECK(small.architecture().channels() == want);

  // Exact slices: rows of the kept filters (the first layer keeps every input).
  const auto params = param_layers(arch);
  const torch::Tensor idx0 = torch::tensor(keep[0], torch::kInt64);
  CHECK(torch::equal(weight(small, params[0]), weight(orig, params[0]).index_select(0, idx0)));
  CHECK(torch::equal(bias(small, params[0]), bias(orig, params[0]).index_select(0, idx0)));

  // Kept channels are the top-L1 ones.
  const auto norms = filter_l1_norms(orig);
  for (size_t k = 0; k < keep.size(); ++k) {
    const std::set<int64_t> kept(keep[k].begin(), keep[k].end());
    double min_kept = 1e300, max_dropped = -1;
    for (int64_t c = 0; c < static_cast<int64_t>(norms[k].size()); ++c) {
      if (kept.count(c))
        min_kept = std::min(min_kept, norms[k][c]);
      else
        max_dropped = std::max(max_dropped, norms[k][c]);
    }
    CHECK(min_kept >= max_dropped);
  }

  std::vector<int64_t> shape{7};
  shape.insert(shape.end(), arch.input.begin(), arch.input.end());
  const torch::Tensor x = torch::rand(shape);
  const torch::Tensor y_small = forward(small, x);
  zero_dropped(orig, keep);
  const torch::Tensor y_orig = forward(orig, x);
  REQUIRE_MESSAGE(torch::allclose(y_small, y_orig, 1e-4, 1e-5),
                  "max difference " << (y_small - y_orig).abs().max().item<double>());
}

}  // namespace

TEST_CASE("surgery: conv -> conv -> linear") {
  check_surgery(R"(
input: [2, 8, 8]
batch_size: 8
layers:
  - conv: {out: 5, kernel: 3, padding: 1}
  - relu
  - conv: {out: 6, kernel: 3, padding: 1}
  - relu
  - flatten
  - linear: {out: 3}
)",
                {2, 4});
}

TEST_CASE("surgery: conv -> batchnorm -> relu -> maxpool -> flatten -> linear -> linear") {
  check_surgery(R"(
input: [1, 8, 8]
batch_size: 8
layers:
  - conv: {out: 6, kernel: 3, padding: 1}
  - batchnorm
  - relu
  - maxpool: 2
  - flatten
  - linear: {out: 7}
  - batchnorm
  - relu
  - linear: {out: 3}
)",
                {3, 4});
}

TEST_CASE("surgery: linear -> linear -> linear") {
  check_surgery(R"(
input: [10]
batch_size: 8
layers:
  - linear: {out: 8}
  - relu
  - dropout: 0.2
  - linear: {out: 6}
  - relu
  - linear: {out: 4}
)",
                {3, 2});
}

TEST_CASE("surgery: keeping every channel reproduces the model") {
  const Architecture arch = architecture_from_yaml_text(R"(
input: [1, 6, 6]
batch_size: 4
layers:
  - conv: {out: 3, kernel: 3}
  - relu
  - flatten
  - linear: {out: 2}
)");
  Model orig(arch, 1);
  Model same = prune_model_l1(orig, {3});
  const torch::Tensor x = torch::rand({4, 1, 6, 6});
  CHECK(torch::equal(forward(orig, x), forward(same, x)));
}

TEST_CASE("surgery: L1 choice on hand-set filters") {
  const Architecture arch = architecture_from_yaml_text(R"(
input: [4]
batch_size: 4
layers:
  - linear: {out: 4}
  - relu
  - linear: {out: 2}
)");
  Model m(arch, 1);
  {
    torch::NoGradGuard g;
    auto w = weight(m, 0);
    w.zero_();
    w[0].fill_(0.1);   // L1 0.4
    w[1].fill_(-0.9);  // L1 3.6
    w[2].fill_(0.5);   // L1 2.0
    w[3].fill_(0.5);   // L1 2.0 (tie: lower index wins)
  }
  CHECK(select_channels_l1(m, {1}) == KeepIndices{{1}});
  CHECK(select_channels_l1(m, {2}) == KeepIndices{{1, 2}});
  CHECK(select_channels_l1(m, {3}) == KeepIndices{{1, 2, 3}});
}

TEST_CASE("surgery: bad requests are InputErrors") {
  const Architecture arch = architecture_from_yaml_text(R"(
input: [4]
batch_size: 4
layers:
  - linear: {out: 4}
  - relu
  - linear: {out: 2}
)");
  Model m(arch, 1);
  CHECK_THROWS_AS(select_channels_l1(m, {}), InputError);
  CHECK_THROWS_AS(select_channels_l1(m, {0}), InputError);
  CHECK_THROWS_AS(select_channels_l1(m, {5}), InputError);
  CHECK_THROWS_AS(prune_model(m, KeepIndices{{2, 1}}), InputError);
  CHECK_THROWS_AS(prune_model(m, KeepIndices{{4}}), InputError);
  CHECK_THROWS_AS(prune_model(m, KeepIndices{}), InputError);
}
