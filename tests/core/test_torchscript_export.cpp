// Model::export_torchscript on every model family (the recipes' ResNets,
// 1-D CNN, LSTM and Transformer, plus bottleneck, token and pooled 1-D nets):
// the exported module, run through torch::jit, computes the C++ model's
// eval-mode outputs, and architecture_from_torchscript reads the exported
// structure back. Writes each family's .pt file, input batch and C++ outputs
// to $THOR_BINARY_DIR/test-out/torchscript-export/ for the Python check
// (tests/data/torchscript/check_export.py, the CTest case
// torchscript_export_python, run after this suite).
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "thor/architecture.hpp"
#include "thor/train.hpp"
#include "thor_test_support.hpp"
#include "thor_torch_doctest.hpp"

using namespace thor;
namespace fs = std::filesystem;

namespace {

struct Family {
  std::string name;
  Architecture arch;
};

Architecture recipe(const std::string& name) {
  return load_architecture(std::string(THOR_SOURCE_DIR) + "/recipes/arch/" + name + ".yaml");
}

// The block types and layouts the recipes leave out: bottleneck blocks (both
// shortcuts), token ids into an embedding, an encoder and a 2-layer LSTM, and
// a strided, padded 1-D net with a BatchNorm1d and a global pool over length.
const struct {
  const char* name;
  const char* yaml;
} kInline[] = {{"bottleneck", R"(
input: [3, 8, 8]
batch_size: 8
layers:
  - conv: {out: 8, kernel: 3, padding: 1}
  - batchnorm
  - relu
  - bottleneck: {mid: 4, out: 8}
  - bottleneck: {mid: 4, out: 16, stride: 2}
  - global_avgpool
  - linear: {out: 3}
)"},
               {"embedding", R"(
input: [12]
layout: tokens
batch_size: 8
layers:
  - embedding: {vocab: 50, dim: 16}
  - encoder: {heads: 2, ff: 32}
  - lstm: {hidden: 8, layers: 2}
  - last
  - linear: {out: 4}
)"},
               {"conv1d_pool", R"(
input: [3, 20]
layout: channels
batch_size: 8
layers:
  - conv1d: {out: 6, kernel: 3, stride: 2, padding: 1}
  - batchnorm
  - relu
  - maxpool1d: {kernel: 3, stride: 2, padding: 1}
  - dropout: 0.2
  - global_avgpool
  - linear: {out: 4}
)"}};

std::vector<Family> families() {
  std::vector<Family> f;
  for (const char* name : {"resnet8", "resnet20", "har_cnn", "lstm_fmnist", "transformer_fmnist"})
    f.push_back({name, recipe(name)});
  for (const auto& c : kInline)
    f.push_back({c.name, architecture_from_yaml_text(c.yaml, std::string(c.name) + ".yaml")});
  return f;
}

// Random samples; token ids are whole numbers below the vocabulary.
Dataset samples(const Architecture& a, int64_t n, uint64_t seed) {
  Dataset d = random_dataset(a.input, n, a.num_outputs(), seed);
  if (a.input_layout() == Layout::tokens)
    for (float& v : d.data) v = std::floor(v * static_cast<float>(a.layers[0].vocab));
  return d;
}

torch::Tensor cpp_eval(Model& m, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  m.impl().net->eval();
  auto out = m.impl().net->forward(x);
  m.impl().net->train();
  return out;
}

void write_floats(const std::string& path, const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat32).contiguous();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(c.data_ptr<float>()),
            static_cast<std::streamsize>(c.numel() * sizeof(float)));
  REQUIRE_MESSAGE(out.good(), "cannot write " << path);
}

std::string dims(const torch::Tensor& t) {
  std::string s;
  for (int64_t d : t.sizes()) s += (s.empty() ? "" : ",") + std::to_string(d);
  return s;
}

// Where the Python check reads the files; a temp folder outside CTest.
fs::path out_dir(std::unique_ptr<testing::TempDir>& temp) {
  if (const char* bin = std::getenv("THOR_BINARY_DIR"))
    return fs::path(bin) / "test-out" / "torchscript-export";
  temp = std::make_unique<testing::TempDir>("torchscript-export");
  return temp->path;
}

}  // namespace

TEST_CASE("exported TorchScript computes the C++ model's outputs and reads back") {
  std::unique_ptr<testing::TempDir> temp;
  const fs::path dir = out_dir(temp);
  fs::remove_all(dir);  // no stale family for the Python check
  fs::create_directories(dir);
  std::ofstream manifest(dir / "manifest.txt");
  for (const Family& f : families()) {
    INFO("family " << f.name << ": " << f.arch.summary());
    Model model(f.arch, 11);
    // A few steps so that batch-norm statistics and attention biases are no
    // longer their initial values.
    TrainOptions o;
    o.iterations = 3;
    o.lr = 0.01;
    model.train(samples(f.arch, 2 * f.arch.batch_size, 1), o);
    const torch::Tensor x =
        dataset_tensors(samples(f.arch, 5, 2), 0, 5, torch::Device(torch::kCPU)).first;
    const torch::Tensor want = cpp_eval(model, x);

    const std::string pt = (dir / (f.name + ".pt")).string();
    model.export_torchscript(pt);
    torch::jit::Module scripted = load_torchscript_module(pt);
    scripted.eval();
    torch::NoGradGuard no_grad;
    const torch::Tensor got = scripted.forward({x}).toTensor();
    REQUIRE(got.sizes() == want.sizes());
    const double diff = (got - want).abs().max().item<double>();
    CHECK_MESSAGE(diff < 1e-4, "max abs difference " << diff);
    CHECK(want.abs().max().item<double>() > 0);

    const Architecture back =
        architecture_from_torchscript(pt, f.arch.input, f.arch.batch_size, f.arch.layout);
    CHECK_MESSAGE(back == f.arch, "read back: " << back.summary());

    write_floats((dir / (f.name + ".input.f32")).string(), x);
    write_floats((dir / (f.name + ".output.f32")).string(), want);
    manifest << f.name << ' ' << dims(x) << ' ' << dims(want) << '\n';
  }
  REQUIRE(manifest.good());
}

TEST_CASE("exported ResNet blocks have torchvision's children") {
  Model model(recipe("resnet8"), 3);
  testing::TempDir dir("torchscript-export-resnet");
  model.export_torchscript(dir.str("resnet8.pt"));
  const torch::jit::Module m = load_torchscript_module(dir.str("resnet8.pt"));
  auto child = [](const torch::jit::Module& parent, const std::string& name) {
    REQUIRE_MESSAGE(parent.hasattr(name), "no child " << name);
    return parent.attr(name).toModule();
  };
  auto cls = [](const torch::jit::Module& mod) { return mod.type()->name()->name(); };
  // layer3: residual(16), identity shortcut; layer4: residual(32, stride 2), projection.
  const auto identity = child(m, "layer3"), projection = child(m, "layer4");
  CHECK(cls(identity) == "BasicBlock");
  CHECK_FALSE(identity.hasattr("downsample"));
  CHECK(cls(child(identity, "conv1")) == "Conv2d");
  CHECK(cls(child(identity, "bn2")) == "BatchNorm2d");
  CHECK(cls(child(projection, "downsample")) == "Sequential");
  CHECK(cls(child(child(projection, "downsample"), "0")) == "Conv2d");
  CHECK(cls(child(child(projection, "downsample"), "1")) == "BatchNorm2d");
  CHECK(child(projection, "conv1").attr("stride").toIntVector() == std::vector<int64_t>{2, 2});
  CHECK(cls(child(m, "layer6")) == "AdaptiveAvgPool2d");
}
