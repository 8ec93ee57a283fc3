// The model families beyond plain CNNs: ResNet blocks, 1-D CNNs, LSTMs,
// Transformer encoders and embeddings — grammar, layouts, shapes, FLOPs and
// parameters against hand-computed values, errors, and their layer kinds.
#include <doctest/doctest.h>

#include <string>

#include "thor/architecture.hpp"
#include "thor/layer_kind.hpp"

using namespace thor;

namespace {

std::string error_of(const std::string& yaml) {
  try {
    architecture_from_yaml_text(yaml, "a.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

void has(const std::string& text, const std::string& part) {
  REQUIRE_MESSAGE(text.find(part) != std::string::npos, text);
}

Architecture arch(const std::string& yaml) { return architecture_from_yaml_text(yaml, "t.yaml"); }

std::string example(const std::string& name) {
  return std::string(THOR_SOURCE_DIR) + "/recipes/arch/" + name + ".yaml";
}

}  // namespace

TEST_CASE("residual block: shapes, parameters and FLOPs by hand") {
  // A 1x1 conv first, so the block's input needs its gradient.
  const Architecture a = arch(
      "input: [16, 8, 8]\nbatch_size: 2\nlayers:\n  - conv: {out: 16, kernel: 1}\n"
      "  - residual: {out: 16}\n  - global_avgpool\n  - linear: {out: 10}\n");
  const auto info = a.infer();
  CHECK(info[1].out_shape == std::vector<int64_t>{16, 8, 8});
  // conv3x3 16→16 twice (no bias) + two BNs: 2·2304 + 2·32.
  CHECK(info[1].params == 4672);
  // conv: 2·B·16·64·16·9 = 589824 each; BN 4·B·1024 = 8192 each; ReLU
  // 2048; sum and ReLU 4096.
  CHECK(info[1].forward_flops == doctest::Approx(1202176));
  // conv 3·589824 + 2·2304; BN 12·B·1024 + 2·32; ReLU ×2; sum+ReLU ×2.
  CHECK(info[1].train_flops == doctest::Approx(3609728));
  CHECK(info[2].out_shape == std::vector<int64_t>{16});
  CHECK(info[2].out_layout == Layout::flat);

  // Stride 2 and new channels: a 1x1 projection (+ BN) on the shortcut.
  const Architecture p = arch(
      "input: [8, 9, 9]\nlayers:\n  - residual: {out: 16, stride: 2}\n  - flatten\n"
      "  - linear: {out: 2}\n");
  CHECK(p.infer()[0].out_shape == std::vector<int64_t>{16, 5, 5});
  CHECK(p.infer()[0].params == 8 * 16 * 9 + 32 + 16 * 16 * 9 + 32 + 8 * 16 + 32);
}

TEST_CASE("bottleneck block: shapes and parameters") {
  const Architecture a = arch(
      "input: [8, 8, 8]\nlayers:\n  - bottleneck: {mid: 4, out: 16, stride: 2}\n"
      "  - global_avgpool\n  - linear: {out: 2}\n");
  const auto info = a.infer();
  CHECK(info[0].out_shape == std::vector<int64_t>{16, 4, 4});
  // 1x1 8→4, BN, 3x3 4→4, BN, 1x1 4→16, BN, projection 1x1 8→16 + BN.
  CHECK(info[0].params == 32 + 8 + 144 + 8 + 64 + 32 + 128 + 32);
  CHECK(a.layers[0] == Layer::bottleneck(4, 16, 2));
}

TEST_CASE("conv1d, maxpool1d and global_avgpool on channels-first inputs") {
  const Architecture a = arch(
      "input: [3, 10]\nlayout: channels\nbatch_size: 2\nlayers:\n"
      "  - conv1d: {out: 4, kernel: 3, padding: 1}\n  - relu\n  - maxpool1d: 2\n"
      "  - batchnorm\n  - global_avgpool\n  - linear: {out: 5}\n");
  const auto info = a.infer();
  CHECK(info[0].out_shape == std::vector<int64_t>{4, 10});
  CHECK(info[0].out_layout == Layout::channels);
  CHECK(info[0].params == 40);
  // 2·(2·4·10·3·3 + 4·10) forward; first layer: backward 1×, step 2·40.
  CHECK(info[0].forward_flops == doctest::Approx(1520));
  CHECK(info[0].train_flops == doctest::Approx(3120));
  CHECK(info[2].out_shape == std::vector<int64_t>{4, 5});
  CHECK(info[3].params == 8);
  CHECK(info[4].out_shape == std::vector<int64_t>{4});
  CHECK(a.input_channels() == 3);
}

TEST_CASE("lstm and last on time-first sequences") {
  const Architecture a = arch(
      "input: [5, 3]\nlayout: sequence\nbatch_size: 2\nlayers:\n"
      "  - lstm: {hidden: 4}\n  - last\n  - linear: {out: 2}\n");
  const auto info = a.infer();
  CHECK(info[0].out_shape == std::vector<int64_t>{5, 4});
  // PyTorch's LSTM: weight_ih 16x3, weight_hh 16x4, two biases of 16.
  CHECK(info[0].params == 144);
  // B·T·(8H(I+H) + 8H) = 2560 products, B·T·9H = 360 elementwise.
  CHECK(info[0].forward_flops == doctest::Approx(2920));
  CHECK(info[0].train_flops == doctest::Approx(2560 * 2 + 720 + 288));
  CHECK(info[1].out_shape == std::vector<int64_t>{4});
  CHECK(a.input_channels() == 3);
  // Stacked: the second layer reads H features.
  const Architecture two = arch(
      "input: [5, 3]\nlayout: sequence\nlayers:\n  - lstm: {hidden: 4, layers: 2}\n  - last\n"
      "  - linear: {out: 2}\n");
  CHECK(two.infer()[0].params == 144 + 4 * 4 * 8 + 32);
}

TEST_CASE("encoder and linear on sequences, embedding on tokens") {
  const Architecture a = arch(
      "input: [4, 3]\nlayout: sequence\nbatch_size: 1\nlayers:\n  - linear: {out: 8}\n"
      "  - encoder: {heads: 2, ff: 16}\n  - global_avgpool\n  - linear: {out: 2}\n");
  const auto info = a.infer();
  CHECK(info[0].out_shape == std::vector<int64_t>{4, 8});  // per time step
  CHECK(info[0].params == 32);
  CHECK(info[1].out_shape == std::vector<int64_t>{4, 8});
  // in_proj 3·64+24, out_proj 64+8, linear1 128+16, linear2 128+8, norms 32.
  CHECK(info[1].params == 600);
  // Products 4832 (QKV 1632, scores and sum 512, out 544, FF 2144);
  // elementwise 1152 (softmax etc. 256, 22TD 704, 3TF 192).
  CHECK(info[1].forward_flops == doctest::Approx(5984));
  CHECK(info[1].train_flops == doctest::Approx(4832 * 3 + 2304 + 1200));
  CHECK(info[2].out_shape == std::vector<int64_t>{8});

  const Architecture t = arch(
      "input: [6]\nlayout: tokens\nbatch_size: 2\nlayers:\n  - embedding: {vocab: 10, dim: 4}\n"
      "  - lstm: {hidden: 3}\n  - last\n  - linear: {out: 2}\n");
  const auto ti = t.infer();
  CHECK(ti[0].out_shape == std::vector<int64_t>{6, 4});
  CHECK(ti[0].params == 40);
  CHECK(ti[0].forward_flops == doctest::Approx(48));
  CHECK(ti[0].train_flops == doctest::Approx(96 + 80));
}

TEST_CASE("new blocks round-trip through YAML") {
  for (const char* name : {"resnet8", "resnet20", "har_cnn", "lstm_fmnist", "transformer_fmnist"}) {
    CAPTURE(name);
    const Architecture a = load_architecture(example(name));
    CHECK(architecture_from_yaml_text(a.to_yaml()) == a);
  }
  const Architecture t = arch(
      "input: [6]\nlayout: tokens\nlayers:\n  - embedding: {vocab: 10, dim: 4}\n"
      "  - encoder: {heads: 2, ff: 8}\n  - flatten\n  - linear: 2\n");
  CHECK(architecture_from_yaml_text(t.to_yaml()) == t);
  const Architecture c = arch(
      "input: [2, 40]\nlayout: channels\nlayers:\n  - conv1d: {out: 3, kernel: 4, stride: 2}\n"
      "  - maxpool1d: {kernel: 3, stride: 1}\n  - flatten\n  - linear: 2\n");
  CHECK(architecture_from_yaml_text(c.to_yaml()) == c);
  CHECK(c.summary() == "[2,40] b32: conv1d(3,k4,s2) maxpool1d(3) flatten linear(2)");
  CHECK(load_architecture(example("har_cnn")).summary().find("conv1d(32,k5,p2)") !=
        std::string::npos);
  CHECK(c != arch("input: [2, 40]\nlayout: channels\nlayers:\n  - conv1d: {out: 3, kernel: 4}\n"
                  "  - maxpool1d: {kernel: 3, stride: 1}\n  - flatten\n  - linear: 2\n"));
}

TEST_CASE("bad blocks and layouts name the file, line and layer") {
  has(error_of("input: [9, 128]\nlayers:\n  - conv1d: {out: 4, kernel: 3}\n"),
      "a.yaml:1: key 'input': a 2-D input needs 'layout: channels'");
  has(error_of("input: [9, 128]\nlayout: channel\nlayers: [flatten, linear: 2]\n"),
      "a.yaml:2: key 'layout': layout 'channel': expected channels");
  has(error_of("input: [1, 9, 128]\nlayout: sequence\nlayers: [flatten, linear: 2]\n"),
      "a.yaml:2: key 'layout': layout 'sequence' needs a 2-D input");
  has(error_of("input: [1, 28, 28]\nlayers:\n  - conv1d: {out: 4, kernel: 3}\n  - flatten\n"
               "  - linear: 2\n"),
      "a.yaml:3: key 'layers[0]': layer 0 (conv1d): needs a channels-first [C, L] input");
  has(error_of("input: [9, 128]\nlayout: channels\nlayers:\n  - lstm: {hidden: 4}\n"
               "  - last\n  - linear: 2\n"),
      "layer 0 (lstm): needs a time-first [T, F] input");
  has(error_of("input: [4, 8]\nlayout: sequence\nlayers:\n  - encoder: {heads: 3, ff: 8}\n"
               "  - global_avgpool\n  - linear: 2\n"),
      "a.yaml:4: key 'layers[0]': layer 0 (encoder): heads (3) must divide the model dimension 8");
  has(error_of("input: [4, 8]\nlayout: sequence\nlayers:\n  - lstm: {hidden: 4, size: 2}\n"),
      "a.yaml:4: key 'layers[0].lstm.size': unknown key; allowed here: hidden, layers");
  has(error_of("input: [4, 8]\nlayout: sequence\nlayers:\n  - lstm: {layers: 2}\n"),
      "missing 'hidden'");
  has(error_of("input: [1, 8, 8]\nlayers:\n  - residual: {out: 4, stride: 3}\n"),
      "a.yaml:3: key 'layers[0].residual.stride': stride must be 1 or 2, got 3");
  has(error_of("input: [1, 8, 8]\nlayers:\n  - residual: {out: 0}\n"),
      "out must be positive, got 0");
  has(error_of("input: [6]\nlayout: tokens\nlayers:\n  - relu\n  - linear: 2\n"),
      "layer 0 (relu): token ids need an embedding layer first");
  has(error_of("input: [6, 4]\nlayout: sequence\nlayers:\n  - embedding: {vocab: 5, dim: 2}\n"),
      "layer 0 (embedding): needs a token [T] input");
  has(error_of("input: [4, 8]\nlayout: sequence\nlayers:\n  - lstm: {hidden: 4}\n"
               "  - linear: 2\n"),
      "the network must end in a flat output");
  has(error_of("input: [4, 8]\nlayout: sequence\nlayers:\n  - lstm\n"),
      "layer 'lstm' needs parameters, e.g. '- lstm: {hidden: 64, layers: 1}'");
  has(error_of("input: [4, 8]\nlayout: sequence\nlayers:\n  - gru: {hidden: 4}\n"),
      "unknown layer 'gru'; known: conv, linear");
  has(error_of("input: [4, 8]\nlayout: sequence\nlayers:\n  - encoder: {heads: 2, ff: 8}\n"
               "  - batchnorm\n  - global_avgpool\n  - linear: 2\n"),
      "layer 1 (batchnorm): needs a [C, H, W], [C, L] or flat input");
}

TEST_CASE("layer kinds of the new families") {
  SUBCASE("ResNet-8: identity blocks are tied, projections are not") {
    const auto b = split_blocks(load_architecture(example("resnet8")));
    REQUIRE(b.size() == 5);
    CHECK(b[0].key == "input:conv(k3,s1,p1)+batchnorm+relu:in28x28:cin1:b32");
    CHECK(b[1].key == "hidden:residual(s1,id):in28x28:b32");
    CHECK(b[1].tied);
    CHECK(b[1].features == std::vector<double>{16});
    CHECK(b[2].key == "hidden:residual(s2,proj):in28x28:b32");
    CHECK_FALSE(b[2].tied);
    CHECK(b[2].features == std::vector<double>{16, 32});
    CHECK(b[3].key == "hidden:residual(s2,proj)+global_avgpool:in14x14:b32");
    CHECK(b[3].quadratic);
    CHECK(b[4].key == "output:linear:inflat:out10:b32");
    CHECK(b[4].c_in == 64);
    CHECK_FALSE(b[4].quadratic);
  }
  SUBCASE("Transformer: the encoder's features are (D, ff), the next block reads D") {
    const Architecture a = load_architecture(example("transformer_fmnist"));
    const auto b = split_blocks(a);
    REQUIRE(b.size() == 4);
    CHECK(b[0].key == "input:linear:inT28:cin28:b32");
    CHECK(b[1].key == "hidden:encoder(h4):inT28:b32");
    CHECK(b[1].features == std::vector<double>{64, 128});
    CHECK(b[1].multiple == std::vector<int64_t>{4, 1});
    CHECK(b[2].key == "hidden:encoder(h4)+global_avgpool:inT28:b32");
    CHECK(b[2].c_in == 64);
    CHECK(b[3].c_in == 64);
    CHECK(width_multiples(a) == std::vector<int64_t>{4, 1, 1, 1});
  }
  SUBCASE("HAR 1-D CNN: a linear layer after flatten keeps the [C, L] structure") {
    const auto b = split_blocks(load_architecture(example("har_cnn")));
    REQUIRE(b.size() == 4);
    CHECK(b[0].key == "input:conv1d(k5,s1,p2)+relu+maxpool1d(k2,s2,p0):inL128:cin9:b32");
    CHECK(b[2].key == "hidden:linear+relu:inL32f:b32");
    CHECK(b[2].c_in == 64);
  }
  SUBCASE("LSTM: hidden size is the width; last flattens") {
    const auto b = split_blocks(load_architecture(example("lstm_fmnist")));
    REQUIRE(b.size() == 2);
    CHECK(b[0].key == "input:lstm(l1)+last:inT28:cin28:b32");
    CHECK(b[0].quadratic);
    CHECK(b[1].c_in == 64);
  }
  SUBCASE("a kind's key tells its traits as split_blocks sets them") {
    for (const char* name : {"resnet8", "resnet20", "har_cnn", "lstm_fmnist", "transformer_fmnist",
                             "lenet5", "cnn5"}) {
      CAPTURE(name);
      for (const auto& blk : split_blocks(load_architecture(example(name)))) {
        CAPTURE(blk.key);
        const KindTraits t = kind_traits(blk.role, blk.key);
        CHECK(t.features == blk.features.size());
        CHECK(t.tied == blk.tied);
        CHECK(t.quadratic == blk.quadratic);
      }
    }
  }
}
