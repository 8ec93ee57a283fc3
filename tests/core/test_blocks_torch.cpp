// The block layer types as LibTorch modules: their parameter counts against
// Architecture::params() (LibTorch's modules are PyTorch's own), output
// shapes, training, seeded initialisation, and small ResNet, Transformer,
// LSTM and 1-D CNN networks end to end through the public training API.
// This suite includes LibTorch to look inside the modules.
#include <cmath>
#include <map>

#include "thor/architecture.hpp"
#include "thor/train.hpp"
#include "thor_test_support.hpp"
#include "thor_torch_doctest.hpp"

using namespace thor;

namespace {

struct Case {
  const char* name;
  const char* yaml;
};

// Every block type at least once, with both kinds of ResNet shortcut.
const Case kCases[] = {
    {"residual, identity shortcut", R"(
input: [4, 8, 8]
batch_size: 8
layers:
  - residual: {out: 4}
  - global_avgpool
  - linear: {out: 3}
)"},
    {"residual, projection shortcut", R"(
input: [3, 8, 8]
batch_size: 8
layers:
  - conv: {out: 4, kernel: 3, padding: 1}
  - batchnorm
  - relu
  - residual: {out: 6, stride: 2}
  - residual: {out: 6}
  - global_avgpool
  - linear: {out: 3}
)"},
    {"bottleneck", R"(
input: [4, 8, 8]
batch_size: 8
layers:
  - bottleneck: {mid: 2, out: 8, stride: 2}
  - bottleneck: {mid: 3, out: 8}
  - global_avgpool
  - linear: {out: 3}
)"},
    {"conv1d, maxpool1d, batchnorm on channels", R"(
input: [3, 20]
layout: channels
batch_size: 8
layers:
  - conv1d: {out: 5, kernel: 3, stride: 1, padding: 1}
  - batchnorm
  - relu
  - maxpool1d: 2
  - conv1d: {out: 4, kernel: 3, stride: 2}
  - relu
  - global_avgpool
  - linear: {out: 3}
)"},
    {"conv1d then flatten", R"(
input: [2, 16]
layout: channels
batch_size: 8
layers:
  - conv1d: {out: 4, kernel: 5, padding: 2}
  - relu
  - maxpool1d: 2
  - flatten
  - linear: {out: 3}
)"},
    {"lstm", R"(
input: [16, 20]
layout: sequence
batch_size: 8
layers:
  - lstm: {hidden: 8, layers: 2}
  - last
  - linear: {out: 3}
)"},
    {"encoder", R"(
input: [6, 5]
layout: sequence
batch_size: 8
layers:
  - linear: {out: 8}
  - relu
  - encoder: {heads: 2, ff: 16}
  - encoder: {heads: 4, ff: 12}
  - global_avgpool
  - linear: {out: 3}
)"},
    {"embedding, lstm", R"(
input: [10]
layout: tokens
batch_size: 8
layers:
  - embedding: {vocab: 12, dim: 6}
  - lstm: {hidden: 5}
  - last
  - linear: {out: 3}
)"},
    {"embedding, encoder", R"(
input: [10]
layout: tokens
batch_size: 8
layers:
  - embedding: {vocab: 12, dim: 8}
  - encoder: {heads: 2, ff: 16}
  - global_avgpool
  - linear: {out: 3}
)"},
    {"embedding, flatten", R"(
input: [7]
layout: tokens
batch_size: 8
layers:
  - embedding: {vocab: 9, dim: 4}
  - flatten
  - linear: {out: 3}
)"},
};

int64_t trainable(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters())
    if (p.requires_grad()) n += p.numel();
  return n;
}

// One batch of random samples; integer token ids below the vocabulary for a
// token input.
Dataset random_batch(const Architecture& a, uint64_t seed) {
  Dataset d = random_dataset(a.input, a.batch_size, a.num_outputs(), seed);
  if (a.input_layout() == Layout::tokens)
    for (float& v : d.data) v = std::floor(v * static_cast<float>(a.layers[0].vocab));
  return d;
}

torch::Tensor eval_forward(Model& m, const Dataset& d) {
  torch::NoGradGuard no_grad;
  m.impl().net->eval();
  auto out = m.impl().net->forward(dataset_tensors(d, 0, d.size(), torch::kCPU).first);
  m.impl().net->train();
  return out;
}

}  // namespace

TEST_CASE("block modules count PyTorch's parameters and shapes") {
  for (const Case& c : kCases) {
    INFO(std::string(c.name));
    const Architecture a = architecture_from_yaml_text(c.yaml, c.name);
    Model model(a, 3);
    const auto infos = a.infer();
    const auto& modules = model.impl().modules;
    REQUIRE(modules.size() == a.layers.size());
    for (size_t i = 0; i < a.layers.size(); ++i)
      CHECK_MESSAGE(trainable(*modules[i]) == infos[i].params,
                    "layer " << i << " (" << to_string(a.layers[i].type) << "): LibTorch has "
                             << trainable(*modules[i]) << " parameters, Architecture says "
                             << infos[i].params);
    CHECK(trainable(*model.impl().net) == a.params());

    const Dataset batch = random_batch(a, 5);
    const torch::Tensor out = eval_forward(model, batch);
    CHECK(out.sizes().vec() == std::vector<int64_t>{a.batch_size, a.num_outputs()});
    CHECK(out.isfinite().all().item<bool>());
  }
}

TEST_CASE("block modules learn a fixed batch") {
  set_torch_threads(1);
  for (const Case& c : kCases) {
    INFO(std::string(c.name));
    const Architecture a = architecture_from_yaml_text(c.yaml, c.name);
    Model model(a, 4);
    const Dataset batch = random_batch(a, 6);  // one batch: every step sees it whole
    TrainOptions o;  // Adam: SGD at one learning rate is too slow for some and diverges others
    o.optimizer = "adam";
    o.lr = 0.01;
    o.iterations = 100;
    o.record_every = 20;
    const TrainResult r = model.train(batch, o);
    REQUIRE(r.curve.size() == 5);
    CHECK_MESSAGE(r.curve.back().loss < 0.5 * r.curve.front().loss,
                  "loss over steps 1-20 " << r.curve.front().loss << ", steps 81-100 "
                                          << r.curve.back().loss);
  }
}

TEST_CASE("block modules draw every weight from the seed") {
  for (const Case& c : kCases) {
    INFO(std::string(c.name));
    const Architecture a = architecture_from_yaml_text(c.yaml, c.name);
    // Built one after another: a weight drawn from LibTorch's global
    // generator would differ between a and b.
    Model a1(a, 9), a2(a, 9), b(a, 10);
    const auto p1 = a1.impl().net->named_parameters();
    const auto p2 = a2.impl().net->named_parameters();
    const auto pb = b.impl().net->named_parameters();
    REQUIRE(p1.size() == p2.size());
    for (const auto& p : p1) {
      INFO(p.key());
      CHECK(torch::equal(p.value(), p2[p.key()]));
      // Random weights (not BN/LayerNorm's constants or zero biases) change with the seed.
      if (p.value().numel() > 1 && p.value().std().item<double>() > 0)
        CHECK_FALSE(torch::equal(p.value(), pb[p.key()]));
    }
    const Dataset batch = random_batch(a, 7);
    CHECK(torch::equal(eval_forward(a1, batch), eval_forward(a2, batch)));
  }
}

TEST_CASE("the stand-in feeds token ids inside the vocabulary") {
  const Architecture a = architecture_from_yaml_text(kCases[7].yaml, kCases[7].name);
  REQUIRE(a.input_layout() == Layout::tokens);
  TrainingSession session(a, 1);
  CHECK(session.feed() == std::string(kStandIn));
  // An id at or above the vocabulary would make the embedding throw.
  CHECK_NOTHROW(session.run(3));
  CHECK(session.stats().batches == 3);
}

namespace {

// Trains on the left/right task and checks the accuracy, then that a
// checkpoint reproduces it.
void learns_left_right(const Architecture& a, const Dataset& train, const Dataset& test,
                       const TrainOptions& o, double min_accuracy) {
  set_torch_threads(1);
  Model model(a, 2);
  const double before = model.accuracy(test);
  model.train(train, o);
  const double after = model.accuracy(test);
  REQUIRE_MESSAGE(after >= min_accuracy, "accuracy before " << before << ", after " << after);
  testing::TempDir dir("blocks");
  model.save(dir.str("m.ckpt"));
  const Model loaded = Model::load(dir.str("m.ckpt"), a);
  CHECK(loaded.accuracy(test) == doctest::Approx(after));
  CHECK(loaded.loss(test) == doctest::Approx(model.loss(test)));
}

}  // namespace

TEST_CASE("a ResNet-8-like network learns end to end") {
  const Architecture a = architecture_from_yaml_text(R"(
input: [1, 12, 12]
batch_size: 16
layers:
  - conv: {out: 8, kernel: 3, padding: 1}
  - batchnorm
  - relu
  - residual: {out: 8}
  - residual: {out: 16, stride: 2}
  - bottleneck: {mid: 8, out: 32, stride: 2}
  - global_avgpool
  - linear: {out: 2}
)",
                                                     "resnet.yaml");
  TrainOptions o;
  o.iterations = 120;
  o.lr = 0.02;
  learns_left_right(a, testing::left_right_dataset(800, 12, 1),
                    testing::left_right_dataset(300, 12, 2), o, 0.85);
}

TEST_CASE("a Transformer encoder network learns end to end") {
  const Architecture a = architecture_from_yaml_text(R"(
input: [12, 12]
layout: sequence
batch_size: 16
layers:
  - linear: {out: 16}
  - encoder: {heads: 2, ff: 32}
  - encoder: {heads: 2, ff: 32}
  - global_avgpool
  - linear: {out: 2}
)",
                                                     "encoder.yaml");
  TrainOptions o;
  o.iterations = 150;
  o.lr = 0.01;
  learns_left_right(a, rows_as_sequences(testing::left_right_dataset(800, 12, 3)),
                    rows_as_sequences(testing::left_right_dataset(300, 12, 4)), o, 0.85);
}

TEST_CASE("an LSTM and a 1-D CNN learn end to end") {
  const Dataset train = rows_as_sequences(testing::left_right_dataset(800, 12, 5));
  const Dataset test = rows_as_sequences(testing::left_right_dataset(300, 12, 6));
  TrainOptions o;
  o.iterations = 150;
  o.lr = 0.02;
  SUBCASE("lstm") {
    learns_left_right(architecture_from_yaml_text(R"(
input: [12, 12]
layout: sequence
batch_size: 16
layers:
  - lstm: {hidden: 16}
  - last
  - linear: {out: 2}
)"),
                      train, test, o, 0.85);
  }
  SUBCASE("conv1d") {
    // Rows as channels: 12 channels of length 12.
    learns_left_right(architecture_from_yaml_text(R"(
input: [12, 12]
layout: channels
batch_size: 16
layers:
  - conv1d: {out: 8, kernel: 3, padding: 1}
  - relu
  - maxpool1d: 2
  - flatten
  - linear: {out: 2}
)"),
                      train, test, o, 0.85);
  }
}
