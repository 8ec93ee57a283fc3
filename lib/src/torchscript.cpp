// TorchScript on thor's side: exporting a Model so that Python's
// torch.jit.load can run it, and the accuracy of a scripted model. A second
// translation unit with LibTorch, kept apart from the training code in
// torch_model.cpp; the block layer types' submodules are built in
// torchscript_export_blocks.cpp, and reading an architecture back from a
// scripted module is in torchscript_import.cpp.
#include <torch/script.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "thor/detail/torch_model.hpp"
#include "thor/io.hpp"
#include "torchscript_export.hpp"

namespace thor {

namespace detail {

void export_param(torch::jit::Module& m, const std::string& name, const torch::Tensor& t) {
  m.register_parameter(name, t.detach().cpu().clone(), false);
}

void export_ints(torch::jit::Module& m, const std::string& name, std::vector<int64_t> v) {
  m.register_attribute(name, c10::ListType::ofInts(), c10::IValue(std::move(v)));
}

void define_forward(torch::jit::Module& m, const std::string& body) {
  std::string src = "def forward(self, x):\n";
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) src += "    " + line + "\n";
  m.define(src);
}

torch::jit::Module export_conv(const torch::Tensor& weight, const torch::Tensor& bias,
                               int64_t stride, int64_t padding) {
  const int64_t dims = weight.dim() - 2;
  torch::jit::Module m(dims == 1 ? "Conv1d" : "Conv2d");
  export_param(m, "weight", weight);
  // torchvision's block convolutions have no bias: the forward passes None.
  if (bias.defined()) export_param(m, "bias", bias);
  export_ints(m, "stride", std::vector<int64_t>(dims, stride));
  export_ints(m, "padding", std::vector<int64_t>(dims, padding));
  const std::string op = dims == 1 ? "torch.conv1d" : "torch.conv2d";
  define_forward(m, "return " + op + "(x, self.weight, " + (bias.defined() ? "self.bias" : "None") +
                        ", self.stride, self.padding)");
  return m;
}

namespace {

// BatchNorm1dImpl and BatchNorm2dImpl share their fields through a template base.
template <typename BatchNorm>
torch::jit::Module batchnorm_of(const BatchNorm& bn, const char* cls) {
  torch::jit::Module m(cls);
  export_param(m, "weight", bn.weight);
  export_param(m, "bias", bn.bias);
  m.register_buffer("running_mean", bn.running_mean.detach().cpu().clone());
  m.register_buffer("running_var", bn.running_var.detach().cpu().clone());
  m.register_attribute("eps", c10::FloatType::get(), c10::IValue(bn.options.eps()));
  define_forward(m,
                 "return torch.batch_norm(x, self.weight, self.bias, self.running_mean, "
                 "self.running_var, False, 0.1, self.eps, False)");
  return m;
}

}  // namespace

torch::jit::Module export_batchnorm(const torch::nn::Module& mod) {
  if (const auto* bn = dynamic_cast<const torch::nn::BatchNorm2dImpl*>(&mod))
    return batchnorm_of(*bn, "BatchNorm2d");
  return batchnorm_of(dynamic_cast<const torch::nn::BatchNorm1dImpl&>(mod), "BatchNorm1d");
}

torch::jit::Module export_linear(const torch::nn::LinearImpl& linear) {
  torch::jit::Module m("Linear");
  export_param(m, "weight", linear.weight);
  export_param(m, "bias", linear.bias);
  define_forward(m, "return torch.linear(x, self.weight, self.bias)");
  return m;
}

torch::jit::Module export_pool(const Layer& l) {
  const bool one_d = l.type == LayerType::maxpool1d;
  const std::string cls = one_d                          ? "MaxPool1d"
                          : l.type == LayerType::maxpool ? "MaxPool2d"
                                                         : "AvgPool2d";
  const std::string op = one_d                          ? "torch.max_pool1d"
                         : l.type == LayerType::maxpool ? "torch.max_pool2d"
                                                        : "torch.avg_pool2d";
  const size_t dims = one_d ? 1 : 2;
  torch::jit::Module m(cls);
  export_ints(m, "kernel_size", std::vector<int64_t>(dims, l.kernel));
  export_ints(m, "stride", std::vector<int64_t>(dims, l.effective_stride()));
  export_ints(m, "padding", std::vector<int64_t>(dims, l.padding));
  define_forward(m, "return " + op + "(x, self.kernel_size, self.stride, self.padding)");
  return m;
}

}  // namespace detail

namespace {

using detail::define_forward;

torch::jit::Module export_layer(const Layer& l, const LayerInfo& info,
                                const torch::nn::Module& mod) {
  switch (l.type) {
    case LayerType::conv: {
      const auto& conv = dynamic_cast<const torch::nn::Conv2dImpl&>(mod);
      return detail::export_conv(conv.weight, conv.bias, l.effective_stride(), l.padding);
    }
    case LayerType::linear:
      return detail::export_linear(dynamic_cast<const torch::nn::LinearImpl&>(mod));
    case LayerType::batchnorm:
      return detail::export_batchnorm(mod);
    case LayerType::maxpool:
    case LayerType::avgpool:
      return detail::export_pool(l);
    case LayerType::relu: {
      torch::jit::Module m("ReLU");
      define_forward(m, "return torch.relu(x)");
      return m;
    }
    case LayerType::flatten: {
      torch::jit::Module m("Flatten");
      define_forward(m, "return torch.flatten(x, 1)");
      return m;
    }
    case LayerType::dropout: {
      torch::jit::Module m("Dropout");
      m.register_attribute("p", c10::FloatType::get(), c10::IValue(l.p));
      define_forward(m, "return x");  // identity at inference
      return m;
    }
    case LayerType::residual:
    case LayerType::bottleneck:
    case LayerType::global_avgpool:
    case LayerType::conv1d:
    case LayerType::maxpool1d:
    case LayerType::lstm:
    case LayerType::last:
    case LayerType::encoder:
    case LayerType::embedding:
      return detail::export_block(l, info, mod);
  }
  throw std::logic_error("export_torchscript: unknown layer type");
}

}  // namespace

void Model::export_torchscript(const std::string& path) const {
  // One submodule per layer, named layer<i> and of a class named like the
  // torch.nn module it mirrors, so that architecture_from_torchscript (and a
  // person in Python) can read the structure back.
  const auto& arch = impl_->arch;
  const auto infos = arch.infer();
  torch::NoGradGuard no_grad;
  torch::jit::Module m("ThorNet");
  std::ostringstream top;
  top << "def forward(self, x):\n";
  for (size_t i = 0; i < arch.layers.size(); ++i) {
    const std::string name = "layer" + std::to_string(i);
    m.register_module(name, export_layer(arch.layers[i], infos[i], *impl_->modules[i]));
    top << "    x = self." << name << ".forward(x)\n";
  }
  top << "    return x\n";
  m.define(top.str());
  std::ostringstream out;
  m.save(out);
  write_file_atomic(path, out.str());
}

torch::jit::Module load_torchscript_module(const std::string& path) {
  try {
    return torch::jit::load(path);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    throw InputError(path + ": not a TorchScript file (" + what.substr(0, what.find('\n')) + ")");
  }
}

double torchscript_accuracy(const std::string& path, const Dataset& data, int64_t max_samples) {
  torch::jit::Module m = load_torchscript_module(path);
  m.eval();
  torch::NoGradGuard no_grad;
  const int64_t n = max_samples < 0 ? data.size() : std::min(max_samples, data.size());
  int64_t correct = 0;
  for (int64_t b = 0; b < n; b += 500) {
    auto [x, y] =
        dataset_tensors(data, b, std::min<int64_t>(500, n - b), torch::Device(torch::kCPU));
    auto out = m.forward({x}).toTensor();
    correct += out.argmax(1).eq(y).sum().item<int64_t>();
  }
  return static_cast<double>(correct) / std::max<int64_t>(1, n);
}

}  // namespace thor
