// architecture_from_torchscript on models scripted by Python PyTorch and
// torchvision (tests/data/torchscript/make_models.py, run by CTest as the
// fixture torchscript_models into $THOR_BINARY_DIR/test-out/torchscript-models):
// the exact layer lists of ResNets, a Transformer encoder, LSTMs, a Conv1d
// net and an embedding, their parameter counts against PyTorch's, and the
// modules that are refused.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include "thor/architecture.hpp"
#include "thor/train.hpp"

using namespace thor;

namespace {

using Shape = std::vector<int64_t>;
using InLayout = Architecture::InputLayout;

std::string models_dir() {
  const char* dir = std::getenv("THOR_BINARY_DIR");
  REQUIRE_MESSAGE(dir != nullptr, "run through CTest (THOR_BINARY_DIR is not set)");
  return std::string(dir) + "/test-out/torchscript-models/";
}

std::string model(const std::string& name) { return models_dir() + name + ".pt"; }

// PyTorch's parameter counts, as make_models.py wrote them.
int64_t torch_params(const std::string& name) {
  std::ifstream in(models_dir() + "params.txt");
  REQUIRE_MESSAGE(in.good(), "params.txt missing: run the torchscript_models fixture");
  std::map<std::string, int64_t> counts;
  std::string n;
  for (int64_t c; in >> n >> c;) counts[n] = c;
  REQUIRE(counts.count(name) == 1);
  return counts[name];
}

Architecture load(const std::string& name, const Shape& input,
                  InLayout layout = InLayout::automatic) {
  return architecture_from_torchscript(model(name), input, 8, layout);
}

void check_layers(const Architecture& a, const std::vector<Layer>& want) {
  INFO("mapped: " << a.summary());
  REQUIRE(a.layers.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("layer " << i << ": " << to_string(a.layers[i].type) << " vs " << to_string(want[i].type));
    CHECK(a.layers[i] == want[i]);
  }
}

std::vector<Layer> resnet_stem() {
  Layer pool = Layer::pool(LayerType::maxpool, 3, 2);
  pool.padding = 1;
  return {Layer::conv(64, 7, 2, 3), Layer::simple(LayerType::batchnorm),
          Layer::simple(LayerType::relu), pool};
}

std::vector<Layer> with_head(std::vector<Layer> layers, int64_t classes) {
  layers.push_back(Layer::simple(LayerType::global_avgpool));
  layers.push_back(Layer::linear(classes));
  return layers;
}

// thor's plain conv has a bias, torchvision's stem conv (64 channels) none.
constexpr int64_t kStemBias = 64;

}  // namespace

TEST_CASE("torchvision ResNets map to residual and bottleneck blocks") {
  SUBCASE("resnet18: BasicBlocks, projections where the stride or width changes") {
    const Architecture a = load("resnet18", {3, 32, 32});
    auto want = resnet_stem();
    for (int64_t out : {64, 128, 256, 512}) {
      want.push_back(Layer::residual(out, out == 64 ? 1 : 2));
      want.push_back(Layer::residual(out, 1));
    }
    check_layers(a, with_head(want, 10));
    REQUIRE_MESSAGE(a.params() == torch_params("resnet18") + kStemBias,
                    "thor counts " << a.params() << " parameters, PyTorch "
                                   << torch_params("resnet18") << " (+64 for the stem's bias)");
    CHECK(torch_params("resnet18") == 11181642);
  }
  SUBCASE("ResNet(Bottleneck, [1, 1, 1, 1])") {
    const Architecture a = load("resnet_bottleneck", {3, 32, 32});
    auto want = resnet_stem();
    for (int64_t mid : {64, 128, 256, 512})
      want.push_back(Layer::bottleneck(mid, 4 * mid, mid == 64 ? 1 : 2));
    check_layers(a, with_head(want, 10));
    CHECK(a.params() == torch_params("resnet_bottleneck") + kStemBias);
  }
}

TEST_CASE("sequence models map to encoder, lstm and embedding blocks") {
  SUBCASE("Transformer encoder: one encoder per layer, x.mean(1) before the head") {
    const Architecture a = load("transformer", {28, 28}, InLayout::sequence);
    check_layers(a, {Layer::linear(64), Layer::encoder(4, 128), Layer::encoder(4, 128),
                     Layer::simple(LayerType::global_avgpool), Layer::linear(10)});
    CHECK(a.params() == torch_params("transformer"));
  }
  SUBCASE("LSTM classifier: x[:, -1] before the head is `last`") {
    const Architecture a = load("lstm", {128, 9}, InLayout::sequence);
    check_layers(a, {Layer::lstm(32, 2), Layer::simple(LayerType::last), Layer::linear(6)});
    CHECK(a.params() == torch_params("lstm"));
  }
  SUBCASE("LSTM classifier: x.mean(1) in the forward code is global_avgpool") {
    const Architecture a = load("lstm_mean", {128, 9}, InLayout::sequence);
    check_layers(a,
                 {Layer::lstm(32, 2), Layer::simple(LayerType::global_avgpool), Layer::linear(6)});
  }
  SUBCASE("tokens: Embedding then LSTM") {
    const Architecture a = load("tokens", {50}, InLayout::tokens);
    check_layers(a, {Layer::embedding(1000, 32), Layer::lstm(64, 1), Layer::simple(LayerType::last),
                     Layer::linear(2)});
    CHECK(a.params() == torch_params("tokens"));
  }
}

TEST_CASE("a Conv1d net maps to conv1d, maxpool1d and global_avgpool") {
  const Architecture a = load("conv1d_har", {9, 128}, InLayout::channels);
  // The Flatten after AdaptiveAvgPool1d(1) is dropped: global_avgpool is flat.
  check_layers(a,
               {Layer::conv1d(32, 5, 1, 2), Layer::simple(LayerType::batchnorm),
                Layer::simple(LayerType::relu), Layer::pool(LayerType::maxpool1d, 2, 2),
                Layer::conv1d(64, 3, 2, 0), Layer::simple(LayerType::relu),
                Layer::simple(LayerType::global_avgpool), Layer::dropout(0.2), Layer::linear(6)});
  CHECK(a.params() == torch_params("conv1d_har"));
}

TEST_CASE("modules thor has no block for are refused, named by path and class") {
  const auto refused = [](const std::string& name, const Shape& input, InLayout layout,
                          const std::string& message) {
    INFO(name);
    CHECK_THROWS_WITH_AS(load(name, input, layout), doctest::Contains(message.c_str()), InputError);
  };
  refused("gru", {128, 9}, InLayout::sequence,
          "module 'rnn' of type 'GRU' cannot be mapped to a thor layer");
  refused("lstm_time_major", {128, 9}, InLayout::sequence,
          "module 'rnn' of type 'LSTM' has batch_first=False");
  refused("encoder_norm_first", {28, 28}, InLayout::sequence,
          "module 'encoder.layers.0' of type 'TransformerEncoderLayer' has norm_first=True");
  refused("encoder_gelu", {28, 28}, InLayout::sequence,
          "module 'encoder.layers.0' of type 'TransformerEncoderLayer' has an activation other "
          "than relu");
  refused("conv1d_traced", {9, 128}, InLayout::channels,
          "module '0' of type 'Conv1d' has no attribute 'stride' (torch.jit.trace drops it");
  // A 2-D shape says nothing of its layout.
  refused("lstm", {128, 9}, InLayout::automatic, "a 2-D input shape needs a layout");
  // The wrong layout is refused by shape inference.
  refused("lstm", {9, 128}, InLayout::channels, "lstm");
}
