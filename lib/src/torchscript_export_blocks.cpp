// The TorchScript submodules of thor's block layer types for
// Model::export_torchscript. Each mirrors the module a PyTorch user would
// write (torchvision's BasicBlock and Bottleneck, torch.nn's LSTM,
// TransformerEncoderLayer, ...) with the children, parameter names and
// hyperparameter attributes that architecture_from_torchscript reads back,
// and a forward over aten ops that computes what the LibTorch module of
// torch_blocks.cpp computes in eval mode.
#include <cmath>
#include <stdexcept>

#include "thor/detail/torch_blocks.hpp"
#include "torchscript_export.hpp"

namespace thor::detail {

namespace {

using torch::jit::Module;

void export_bool(Module& m, const std::string& name, bool v) {
  m.register_attribute(name, c10::BoolType::get(), c10::IValue(v));
}

void export_int(Module& m, const std::string& name, int64_t v) {
  m.register_attribute(name, c10::IntType::get(), c10::IValue(v));
}

void export_float(Module& m, const std::string& name, double v) {
  m.register_attribute(name, c10::FloatType::get(), c10::IValue(v));
}

// A bias-free convolution of a ResNet block, with the stride and padding it was built with.
Module block_conv(const torch::nn::Module& mod) {
  const auto& conv = dynamic_cast<const torch::nn::Conv2dImpl&>(mod);
  const auto& padding = c10::get<torch::ExpandingArray<2>>(conv.options.padding());
  return export_conv(conv.weight, conv.bias, (*conv.options.stride())[0], (*padding)[0]);
}

// torchvision's BasicBlock or Bottleneck: children conv<i> and bn<i>, a ReLU
// after each BN but the last, and `downsample` (a Sequential of "0": Conv2d
// and "1": BatchNorm2d) only for a projection shortcut, which is what
// architecture_from_torchscript checks; a ReLU after the sum.
Module resnet_block(const char* cls, const std::vector<const torch::nn::Module*>& convs,
                    const std::vector<const torch::nn::Module*>& bns,
                    const torch::nn::Sequential& downsample) {
  Module m(cls);
  std::string body;
  for (size_t i = 0; i < convs.size(); ++i) {
    const std::string n = std::to_string(i + 1);
    m.register_module("conv" + n, block_conv(*convs[i]));
    m.register_module("bn" + n, export_batchnorm(*bns[i]));
    const std::string step =
        "self.bn" + n + ".forward(self.conv" + n + ".forward(" + (i ? "y" : "x") + "))";
    body += "y = " + (i + 1 < convs.size() ? "torch.relu(" + step + ")" : step) + "\n";
  }
  std::string shortcut = "x";
  if (!downsample.is_empty()) {
    Module seq("Sequential");
    seq.register_module("0", block_conv(*downsample->ptr(0)));
    seq.register_module("1", export_batchnorm(*downsample->ptr(1)));
    // Children named "0" and "1", as torch.nn.Sequential names them, are not identifiers.
    define_forward(seq, "return getattr(self, \"1\").forward(getattr(self, \"0\").forward(x))");
    m.register_module("downsample", seq);
    shortcut = "self.downsample.forward(x)";
  }
  define_forward(m, body + "return torch.relu(y + " + shortcut + ")");
  return m;
}

// torch.nn's adaptive pools to 1 keep the pooled dimensions as 1s (torchvision
// flattens after them); thor's global_avgpool drops them. No torch.nn module
// averages a sequence over time: that one is named after thor's module.
Module export_global_avgpool(const GlobalAvgPoolImpl& pool, Layout layout) {
  Module m(layout == Layout::image      ? "AdaptiveAvgPool2d"
           : layout == Layout::channels ? "AdaptiveAvgPool1d"
                                        : "GlobalAvgPool");
  if (layout != Layout::sequence)
    export_ints(m, "output_size", std::vector<int64_t>(pool.dims.size(), 1));
  export_ints(m, "dims", pool.dims);
  define_forward(m, "return torch.mean(x, self.dims)");
  return m;
}

Module export_lstm(const LstmBlockImpl& block) {
  const auto& lstm = *block.lstm;
  const auto& o = lstm.options;
  Module m("LSTM");
  // torch.nn.LSTM's hyperparameters, which architecture_from_torchscript checks.
  export_int(m, "input_size", o.input_size());
  export_int(m, "hidden_size", o.hidden_size());
  export_int(m, "num_layers", o.num_layers());
  export_bool(m, "bias", o.bias());
  export_bool(m, "batch_first", o.batch_first());
  export_bool(m, "bidirectional", o.bidirectional());
  export_int(m, "proj_size", o.proj_size());
  const auto params = lstm.named_parameters(/*recurse=*/false);
  std::string weights;
  for (int64_t k = 0; k < o.num_layers(); ++k)
    for (const char* kind : {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"}) {
      const std::string name = kind + std::to_string(k);
      export_param(m, name, params[name]);
      weights += (weights.empty() ? "self." : ", self.") + name;
    }
  // The aten::lstm call of LibTorch's (and torch.nn's) LSTM, from a zero state.
  define_forward(m,
                 "h0 = torch.zeros([self.num_layers, x.size(0), self.hidden_size], "
                 "dtype=x.dtype, device=x.device)\n"
                 "out = torch.lstm(x, [h0, h0], [" +
                     weights +
                     "], self.bias, self.num_layers, 0.0, False, self.bidirectional, "
                     "self.batch_first)\n"
                     "return out[0]");
  return m;
}

Module export_layer_norm(const torch::nn::LayerNormImpl& norm) {
  Module m("LayerNorm");
  export_param(m, "weight", norm.weight);
  export_param(m, "bias", norm.bias);
  export_ints(m, "normalized_shape", norm.options.normalized_shape());
  export_float(m, "eps", norm.options.eps());
  define_forward(m,
                 "return torch.layer_norm(x, self.normalized_shape, self.weight, self.bias, "
                 "self.eps)");
  return m;
}

// Self-attention on batch-first [B, T, D], written with aten ops as
// LibTorch's multi_head_attention_forward computes it (q scaled after the
// projection, heads split from D) so that it needs no torch.nn.functional.
Module export_attention(const torch::nn::MultiheadAttentionImpl& attn) {
  Module m("MultiheadAttention");
  export_param(m, "in_proj_weight", attn.in_proj_weight);
  export_param(m, "in_proj_bias", attn.in_proj_bias);
  m.register_module("out_proj", export_linear(*attn.out_proj));
  export_int(m, "embed_dim", attn.options.embed_dim());
  export_int(m, "num_heads", attn.options.num_heads());
  export_int(m, "head_dim", attn.head_dim);
  export_float(m, "scaling", 1.0 / std::sqrt(static_cast<double>(attn.head_dim)));
  export_bool(m, "batch_first", true);  // EncoderBlock transposes around LibTorch's [T, B, D]
  const std::string heads =
      ".reshape([b, t, h, self.head_dim]).transpose(1, 2)"
      ".reshape([b * h, t, self.head_dim])\n";
  define_forward(m,
                 "b = x.size(0)\n"
                 "t = x.size(1)\n"
                 "h = self.num_heads\n"
                 "qkv = torch.linear(x, self.in_proj_weight, self.in_proj_bias).chunk(3, -1)\n"
                 "q = (qkv[0] * self.scaling)" +
                     heads + "k = qkv[1]" + heads + "v = qkv[2]" + heads +
                     "a = torch.softmax(torch.bmm(q, k.transpose(1, 2)), -1)\n"
                     "o = torch.bmm(a, v).reshape([b, h, t, self.head_dim]).transpose(1, 2)\n"
                     "return self.out_proj.forward(o.reshape([b, t, self.embed_dim]))");
  return m;
}

// torch.nn.TransformerEncoderLayer(batch_first=True), post-norm, ReLU;
// dropout is off at inference.
Module export_encoder(const EncoderBlockImpl& block) {
  const auto& layer = *block.layer;
  if (!c10::get_if<torch::enumtype::kReLU>(&layer.options.activation()))
    throw std::logic_error("export_torchscript: an encoder layer without ReLU");
  Module m("TransformerEncoderLayer");
  m.register_module("self_attn", export_attention(*layer.self_attn));
  m.register_module("linear1", export_linear(*layer.linear1));
  m.register_module("linear2", export_linear(*layer.linear2));
  m.register_module("norm1", export_layer_norm(*layer.norm1));
  m.register_module("norm2", export_layer_norm(*layer.norm2));
  // What architecture_from_torchscript checks: post-norm and ReLU (torch.nn's code 1).
  export_bool(m, "norm_first", false);
  export_int(m, "activation_relu_or_gelu", 1);
  export_bool(m, "batch_first", true);
  define_forward(m,
                 "x = self.norm1.forward(x + self.self_attn.forward(x))\n"
                 "y = self.linear2.forward(torch.relu(self.linear1.forward(x)))\n"
                 "return self.norm2.forward(x + y)");
  return m;
}

Module export_embedding(const EmbeddingBlockImpl& block) {
  const auto& weight = block.embedding->weight;
  Module m("Embedding");
  export_param(m, "weight", weight);
  export_int(m, "num_embeddings", weight.size(0));
  export_int(m, "embedding_dim", weight.size(1));
  // Datasets hold ids as floats; EmbeddingBlock truncates them to int64 the same way.
  define_forward(m, "return torch.embedding(self.weight, x.long())");
  return m;
}

}  // namespace

Module export_block(const Layer& l, const LayerInfo& info, const torch::nn::Module& mod) {
  switch (l.type) {
    case LayerType::residual: {
      const auto& b = dynamic_cast<const ResidualBlockImpl&>(mod);
      return resnet_block("BasicBlock", {b.conv1.get(), b.conv2.get()}, {b.bn1.get(), b.bn2.get()},
                          b.downsample);
    }
    case LayerType::bottleneck: {
      const auto& b = dynamic_cast<const BottleneckBlockImpl&>(mod);
      return resnet_block("Bottleneck", {b.conv1.get(), b.conv2.get(), b.conv3.get()},
                          {b.bn1.get(), b.bn2.get(), b.bn3.get()}, b.downsample);
    }
    case LayerType::global_avgpool:
      return export_global_avgpool(dynamic_cast<const GlobalAvgPoolImpl&>(mod), info.in_layout);
    case LayerType::conv1d: {
      const auto& conv = dynamic_cast<const torch::nn::Conv1dImpl&>(mod);
      return export_conv(conv.weight, conv.bias, l.effective_stride(), l.padding);
    }
    case LayerType::maxpool1d:
      return export_pool(l);
    case LayerType::lstm:
      return export_lstm(dynamic_cast<const LstmBlockImpl&>(mod));
    case LayerType::last: {
      Module m("LastStep");  // x[:, -1]: code in a torch.nn model, named after thor's module
      define_forward(m, "return torch.select(x, 1, -1)");
      return m;
    }
    case LayerType::encoder:
      return export_encoder(dynamic_cast<const EncoderBlockImpl&>(mod));
    case LayerType::embedding:
      return export_embedding(dynamic_cast<const EmbeddingBlockImpl&>(mod));
    case LayerType::conv:
    case LayerType::linear:
    case LayerType::batchnorm:
    case LayerType::relu:
    case LayerType::maxpool:
    case LayerType::avgpool:
    case LayerType::flatten:
    case LayerType::dropout:
      break;
  }
  throw std::logic_error("export_block: " + to_string(l.type) + " is exported by export_layer");
}

}  // namespace thor::detail
