// TorchScript on thor's side: exporting a Model so that Python's
// torch.jit.load can run it, and the accuracy of a scripted model. A second
// translation unit with LibTorch, kept apart from the training code in
// torch_model.cpp; reading an architecture back from a scripted module is in
// torchscript_import.cpp.
#include <torch/script.h>

#include <algorithm>
#include <sstream>

#include "thor/detail/torch_model.hpp"
#include "thor/io.hpp"

namespace thor {

namespace {

// The torch.nn class a layer mirrors, so that the structure reads back.
std::string module_class(const Architecture& arch, size_t i) {
  const Layer& l = arch.layers[i];
  switch (l.type) {
    case LayerType::conv:
      return "Conv2d";
    case LayerType::linear:
      return "Linear";
    case LayerType::batchnorm:
      return arch.infer()[i].in_shape.size() == 3 ? "BatchNorm2d" : "BatchNorm1d";
    case LayerType::relu:
      return "ReLU";
    case LayerType::maxpool:
      return "MaxPool2d";
    case LayerType::avgpool:
      return "AvgPool2d";
    case LayerType::flatten:
      return "Flatten";
    case LayerType::dropout:
      return "Dropout";
    default:  // the blocks: not exported (yet)
      break;
  }
  return "Identity";
}

void register_param(torch::jit::Module& c, const char* name, const torch::Tensor& t) {
  c.register_parameter(name, t.detach().cpu().clone(), false);
}

// A BatchNorm1d/2d's parameters and running statistics; returns its forward.
std::string batchnorm_module(torch::jit::Module& c, const torch::nn::Module& mod) {
  torch::Tensor w, b, rm, rv;
  if (auto* bn = dynamic_cast<const torch::nn::BatchNorm2dImpl*>(&mod)) {
    w = bn->weight;
    b = bn->bias;
    rm = bn->running_mean;
    rv = bn->running_var;
  } else {
    auto* bn1 = dynamic_cast<const torch::nn::BatchNorm1dImpl*>(&mod);
    w = bn1->weight;
    b = bn1->bias;
    rm = bn1->running_mean;
    rv = bn1->running_var;
  }
  register_param(c, "weight", w);
  register_param(c, "bias", b);
  c.register_buffer("running_mean", rm.detach().cpu().clone());
  c.register_buffer("running_var", rv.detach().cpu().clone());
  return "return torch.batch_norm(x, self.weight, self.bias, self.running_mean, "
         "self.running_var, False, 0.1, 1e-05, False)";
}

}  // namespace

void Model::export_torchscript(const std::string& path) const {
  // One submodule per layer, named layer<i> and of a class named like the
  // torch.nn module it mirrors, so that architecture_from_torchscript (and a
  // person in Python) can read the structure back.
  const auto& arch = impl_->arch;
  for (size_t i = 0; i < arch.layers.size(); ++i)
    if (module_class(arch, i) == "Identity")
      throw InputError("export_torchscript: layer " + std::to_string(i) + " (" +
                       to_string(arch.layers[i].type) +
                       "): only conv, linear, batchnorm, relu, pools, flatten and dropout "
                       "layers are exported so far");
  torch::NoGradGuard no_grad;
  torch::jit::Module m("ThorNet");
  std::ostringstream top;
  top << "def forward(self, x):\n";
  auto ints = [](int64_t v) { return c10::IValue(std::vector<int64_t>{v, v}); };
  auto int_list = c10::ListType::ofInts();
  for (size_t i = 0; i < arch.layers.size(); ++i) {
    const Layer& l = arch.layers[i];
    const auto& mod = impl_->modules[i];
    std::string body;
    torch::jit::Module c(module_class(arch, i));
    switch (l.type) {
      case LayerType::conv: {
        auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(mod.get());
        register_param(c, "weight", conv->weight);
        register_param(c, "bias", conv->bias);
        c.register_attribute("stride", int_list, ints(l.effective_stride()));
        c.register_attribute("padding", int_list, ints(l.padding));
        body = "return torch.conv2d(x, self.weight, self.bias, self.stride, self.padding)";
        break;
      }
      case LayerType::linear: {
        auto* lin = dynamic_cast<torch::nn::LinearImpl*>(mod.get());
        register_param(c, "weight", lin->weight);
        register_param(c, "bias", lin->bias);
        body = "return torch.linear(x, self.weight, self.bias)";
        break;
      }
      case LayerType::batchnorm:
        body = batchnorm_module(c, *mod);
        break;
      case LayerType::relu:
        body = "return torch.relu(x)";
        break;
      case LayerType::maxpool:
      case LayerType::avgpool:
        c.register_attribute("kernel_size", int_list, ints(l.kernel));
        c.register_attribute("stride", int_list, ints(l.effective_stride()));
        c.register_attribute("padding", int_list, ints(l.padding));
        body = l.type == LayerType::maxpool
                   ? "return torch.max_pool2d(x, self.kernel_size, self.stride, self.padding)"
                   : "return torch.avg_pool2d(x, self.kernel_size, self.stride, self.padding)";
        break;
      case LayerType::flatten:
        body = "return torch.flatten(x, 1)";
        break;
      case LayerType::dropout:
        c.register_attribute("p", c10::FloatType::get(), c10::IValue(l.p));
        body = "return x";  // identity at inference
        break;
      default:  // refused above
        break;
    }
    c.define("def forward(self, x):\n    " + body + "\n");
    const std::string name = "layer" + std::to_string(i);
    m.register_module(name, c);
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
