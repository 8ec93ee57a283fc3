// Architecture YAML, shape inference, FLOPs and layer parsing.
#include <doctest/doctest.h>

#include <string>

#include "thor/architecture.hpp"
#include "thor/layer_kind.hpp"

using namespace thor;

namespace {
const char* kLenet = R"(
input: [1, 28, 28]
batch_size: 32
layers:
  - conv: {out: 6, kernel: 5, padding: 2}
  - relu
  - maxpool: 2
  - conv: {out: 16, kernel: 5}
  - relu
  - maxpool: 2
  - flatten
  - linear: {out: 120}
  - relu
  - linear: {out: 84}
  - relu
  - linear: {out: 10}
)";

std::string error_of(const std::string& yaml) {
  try {
    architecture_from_yaml_text(yaml, "a.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("LeNet-5 parses, infers shapes and round-trips through YAML") {
  const Architecture a = architecture_from_yaml_text(kLenet, "lenet.yaml");
  CHECK(a.input == std::vector<int64_t>{1, 28, 28});
  CHECK(a.batch_size == 32);
  REQUIRE(a.layers.size() == 12);
  const auto infos = a.infer();
  CHECK(infos[0].out_shape == std::vector<int64_t>{6, 28, 28});
  CHECK(infos[2].out_shape == std::vector<int64_t>{6, 14, 14});
  CHECK(infos[3].out_shape == std::vector<int64_t>{16, 10, 10});
  CHECK(infos[6].out_shape == std::vector<int64_t>{400});
  CHECK(a.num_outputs() == 10);
  // The classic LeNet-5 parameter count with these shapes.
  CHECK(a.params() ==
        (6 * 25 + 6) + (16 * 6 * 25 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10));
  CHECK(a.channels() == std::vector<int64_t>{6, 16, 120, 84, 10});

  const Architecture back = architecture_from_yaml_text(a.to_yaml(), "roundtrip.yaml");
  CHECK(back == a);
  CHECK(back.to_yaml() == a.to_yaml());
}

TEST_CASE("FLOPs follow the documented counting rule") {
  const Architecture a = architecture_from_yaml_text(R"(
input: [3, 8, 8]
batch_size: 4
layers:
  - conv: {out: 2, kernel: 3, padding: 1}
  - relu
  - flatten
  - linear: {out: 5}
)",
                                                     "f.yaml");
  const auto infos = a.infer();
  const double conv_macs = 2.0 * 8 * 8 * 3 * 9;
  const double conv_fwd = 4 * (2 * conv_macs + 2 * 8 * 8);
  CHECK(infos[0].forward_flops == doctest::Approx(conv_fwd));
  // First parametric layer: forward + weight gradient (2x) + SGD step.
  CHECK(infos[0].train_flops == doctest::Approx(2 * conv_fwd + 2 * infos[0].params));
  const double lin_fwd = 4 * (2.0 * 128 * 5 + 5);
  CHECK(infos[3].train_flops == doctest::Approx(3 * lin_fwd + 2 * (128 * 5 + 5)));
  CHECK(infos[2].train_flops == 0.0);  // flatten is free
  // Doubling the conv's channels roughly doubles its FLOPs.
  const Architecture b = a.with_channels({4});
  CHECK(b.infer()[0].forward_flops > 1.9 * conv_fwd);
}

TEST_CASE("impossible architectures name the layer and the reason") {
  CHECK(error_of("input: [1, 4, 4]\nlayers:\n  - conv: {out: 2, kernel: 5}\n  - flatten\n  - "
                 "linear: {out: 2}\n")
            .find("layer 0 (conv): kernel 5 is larger") != std::string::npos);
  const std::string before_flatten =
      error_of("input: [1, 8, 8]\nlayers:\n  - conv: {out: 2, kernel: 3}\n  - linear: {out: 2}\n");
  CHECK(before_flatten.find("layer 1 (linear)") != std::string::npos);
  CHECK(before_flatten.find("flatten") != std::string::npos);
  CHECK(before_flatten.find("a.yaml:4") != std::string::npos);  // the layer's line
  CHECK(error_of("input: [1, 8, 8]\nlayers:\n  - conv: {out: 0, kernel: 3}\n  - flatten\n  - "
                 "linear: {out: 2}\n")
            .find("a.yaml:3") != std::string::npos);
  CHECK(error_of("input: [1, 8, 8]\nlayers:\n  - conv: {out: 2, kernel: 3}\n  - flatten\n")
            .find("last parametric layer must be linear") != std::string::npos);
  CHECK(
      error_of("input: [1, 8]\nlayers:\n  - linear: {out: 2}\n").find("needs 'layout: channels'") !=
      std::string::npos);
}

TEST_CASE("bad YAML names the file, line and key") {
  CHECK(error_of("input: [1, 8, 8\nlayers: [").find("a.yaml:") == 0);
  CHECK(error_of("input: [1, 8, 8]\nlayers:\n  - conv: {out: 2, kernel: x}\n")
            .find("key 'layers[0].conv.kernel'") != std::string::npos);
  CHECK(error_of("input: [1, 8, 8]\nlayers:\n  - sigmoid\n").find("unknown layer 'sigmoid'") !=
        std::string::npos);
  CHECK(error_of("input: [1, 8, 8]\nbatchsize: 3\nlayers:\n  - flatten\n  - linear: 2\n")
            .find("a.yaml:2: key 'batchsize': unknown key") != std::string::npos);
  CHECK(error_of("input: [1, 8, 8]\n").find("missing 'layers'") != std::string::npos);
}

TEST_CASE("layer rules live in validate(); the parser reports them at the key's line") {
  CHECK(error_of("input: [1, 8, 8]\nlayers:\n  - flatten\n  - linear: {out: 0}\n") ==
        "a.yaml:4: key 'layers[1]': layer 1 (linear): out must be positive (zero features), got 0");
  CHECK(error_of("input: [1, 8, 8]\nbatch_size: 0\nlayers:\n  - flatten\n  - linear: 2\n") ==
        "a.yaml:2: key 'batch_size': expected 1 .. 1048576, got 0");
  CHECK(error_of("input: [1, 0, 8]\nlayers:\n  - flatten\n  - linear: 2\n")
            .find("a.yaml:1: key 'input'") == 0);
  CHECK(error_of("input: [1, 8, 8]\nlayers:\n  - flatten\n  - dropout: {p: 1.5}\n  - linear: 2\n")
            .find("a.yaml:4: key 'layers[1]': layer 1 (dropout): p must be in [0, 1)") == 0);
}

TEST_CASE("layer parsing splits blocks and keys kinds as in the paper") {
  const Architecture a = architecture_from_yaml_text(kLenet, "lenet.yaml");
  const auto blocks = split_blocks(a);
  REQUIRE(blocks.size() == 5);
  CHECK(blocks[0].role == BlockRole::input);
  CHECK(blocks[1].role == BlockRole::hidden);
  CHECK(blocks[4].role == BlockRole::output);
  CHECK(blocks[0].features == std::vector<double>{6});
  CHECK(blocks[1].features == std::vector<double>{6, 16});
  CHECK(blocks[4].features == std::vector<double>{84});
  // The first linear layer gets its channels from the conv before flatten.
  CHECK(blocks[2].flattened_input);
  CHECK(blocks[2].c_in == 16);
  CHECK(blocks[2].features == std::vector<double>{16, 120});
  CHECK(blocks[0].layers.size() == 3);  // conv + relu + maxpool
  // Channel counts are not part of the key; kernel, input size and batch are.
  const auto pruned = split_blocks(a.with_channels({3, 9, 50, 40}));
  for (size_t i = 0; i < blocks.size(); ++i) CHECK(pruned[i].key == blocks[i].key);
  Architecture other_batch = a;
  other_batch.batch_size = 64;
  CHECK(split_blocks(other_batch)[1].key != blocks[1].key);
  Architecture other_kernel = a;
  other_kernel.layers[3].kernel = 3;
  CHECK(split_blocks(other_kernel)[1].key != blocks[1].key);
  // Identical hidden layers share one kind.
  const Architecture twin = architecture_from_yaml_text(R"(
input: [3, 16, 16]
layers:
  - conv: {out: 8, kernel: 3, padding: 1}
  - relu
  - conv: {out: 8, kernel: 3, padding: 1}
  - relu
  - conv: {out: 8, kernel: 3, padding: 1}
  - relu
  - conv: {out: 12, kernel: 3, padding: 1}
  - relu
  - flatten
  - linear: {out: 10}
)",
                                                        "twin.yaml");
  const auto tb = split_blocks(twin);
  REQUIRE(tb.size() == 5);
  CHECK(tb[1].key == tb[2].key);
  CHECK(tb[0].key != tb[1].key);
}

TEST_CASE("a single linear layer is one output block") {
  const Architecture a =
      architecture_from_yaml_text("input: [20]\nlayers:\n  - linear: {out: 3}\n", "one.yaml");
  const auto blocks = split_blocks(a);
  REQUIRE(blocks.size() == 1);
  CHECK(blocks[0].role == BlockRole::output);
  CHECK(blocks[0].features == std::vector<double>{20});
}

TEST_CASE("list keys and absurd sizes are input errors (found by fuzz/fuzz_architecture)") {
  const auto has = [](const std::string& error, const std::string& part) {
    REQUIRE_MESSAGE(error.find(part) != std::string::npos, error);
  };
  // A YAML complex key ("? - relu") threw YAML::BadConversion: an internal error.
  has(error_of("input: [4]\nlayers:\n  - linear: 2\n? - relu\n: x\n"),
      "a.yaml:4: expected a key name, got a list as a key");
  has(error_of("input: [4]\nlayers:\n  - {? [conv]: {out: 2}}\n  - linear: 2\n"),
      "a.yaml:3: key 'layers[0]': expected a layer");
  // Sizes whose products overflowed int64 (undefined behaviour in infer()).
  has(error_of("input: [1, 9223372036854775807, 3]\nlayers: [flatten, linear: 2]\n"),
      "a.yaml:1: key 'input': expected at most 2^40 values per sample");
  has(error_of("input: [1, 8, 8]\nlayers: [conv: {out: 2, kernel: 3, padding: 4611686018427387904},"
               " flatten, linear: 2]\n"),
      "layer 0 (conv): out, kernel, stride, padding and block sizes must be at most 2147483647");
  has(error_of("input: [4000000000]\nlayers: [linear: 2000000000, linear: 2]\n"),
      "layer 0 (linear): has 8.000000002e+18 parameters; expected at most 2^40");
  has(error_of("input: [1, 1000000, 1000000]\nlayers: [conv: {out: 4096, kernel: 1}, flatten, "
               "linear: 2]\n"),
      "layer 0 (conv): its output [4096,1000000,1000000] holds more than 2^40 values");
}
