// The LibTorch modules of thor's block layer types, each initialised from the
// model's seeded generator as PyTorch initialises it (so that a seed fixes
// every weight and the global RNG is never drawn from).
#include "thor/detail/torch_blocks.hpp"

#include <cmath>
#include <stdexcept>

namespace thor {

void init_uniform(torch::Tensor& t, double bound, at::Generator& gen) {
  torch::NoGradGuard guard;
  t.uniform_(-bound, bound, gen);
}

void init_fan_in(torch::Tensor& weight, torch::Tensor& bias, at::Generator& gen) {
  const double fan_in = static_cast<double>(weight.numel() / weight.size(0));
  const double bound = 1.0 / std::sqrt(fan_in);
  init_uniform(weight, bound, gen);
  if (bias.defined()) init_uniform(bias, bound, gen);
}

namespace {

torch::nn::Conv2d conv_no_bias(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                               int64_t padding, at::Generator& gen) {
  auto conv = torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
  init_fan_in(conv->weight, conv->bias, gen);
  return conv;
}

// The projection shortcut of both ResNet blocks: conv1x1(stride)-BN.
torch::nn::Sequential projection(int64_t in, int64_t out, int64_t stride, at::Generator& gen) {
  return torch::nn::Sequential(conv_no_bias(in, out, 1, stride, 0, gen),
                               torch::nn::BatchNorm2d(out));
}

}  // namespace

ResidualBlockImpl::ResidualBlockImpl(int64_t in, int64_t out, int64_t stride, at::Generator& gen) {
  conv1 = register_module("conv1", conv_no_bias(in, out, 3, stride, 1, gen));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(out));
  conv2 = register_module("conv2", conv_no_bias(out, out, 3, 1, 1, gen));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(out));
  if (stride != 1 || in != out)
    downsample = register_module("downsample", projection(in, out, stride, gen));
}

torch::Tensor ResidualBlockImpl::forward(torch::Tensor x) {
  auto y = torch::relu(bn1(conv1(x)));
  y = bn2(conv2(y));
  return torch::relu(y + (downsample.is_empty() ? x : downsample->forward(x)));
}

BottleneckBlockImpl::BottleneckBlockImpl(int64_t in, int64_t mid, int64_t out, int64_t stride,
                                         at::Generator& gen) {
  conv1 = register_module("conv1", conv_no_bias(in, mid, 1, 1, 0, gen));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(mid));
  conv2 = register_module("conv2", conv_no_bias(mid, mid, 3, stride, 1, gen));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(mid));
  conv3 = register_module("conv3", conv_no_bias(mid, out, 1, 1, 0, gen));
  bn3 = register_module("bn3", torch::nn::BatchNorm2d(out));
  if (stride != 1 || in != out)
    downsample = register_module("downsample", projection(in, out, stride, gen));
}

torch::Tensor BottleneckBlockImpl::forward(torch::Tensor x) {
  auto y = torch::relu(bn1(conv1(x)));
  y = torch::relu(bn2(conv2(y)));
  y = bn3(conv3(y));
  return torch::relu(y + (downsample.is_empty() ? x : downsample->forward(x)));
}

LstmBlockImpl::LstmBlockImpl(int64_t in, int64_t hidden, int64_t layers, at::Generator& gen) {
  lstm = register_module(
      "lstm",
      torch::nn::LSTM(torch::nn::LSTMOptions(in, hidden).num_layers(layers).batch_first(true)));
  // PyTorch's LSTM.reset_parameters: every weight and bias uniform in +-1/sqrt(hidden).
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden));
  for (auto& p : lstm->parameters()) init_uniform(p, bound, gen);
}

EncoderBlockImpl::EncoderBlockImpl(int64_t dim, int64_t heads, int64_t ff, at::Generator& gen) {
  layer = register_module(
      "layer",
      torch::nn::TransformerEncoderLayer(
          torch::nn::TransformerEncoderLayerOptions(dim, heads).dim_feedforward(ff).dropout(0.1)));
  // PyTorch's MultiheadAttention._reset_parameters: xavier_uniform on the
  // packed [3D, D] input projection, zero biases; out_proj's weight keeps
  // the Linear default. The feed-forward Linears keep theirs too.
  auto& attn = *layer->self_attn;
  init_uniform(attn.in_proj_weight, std::sqrt(6.0 / static_cast<double>(dim + 3 * dim)), gen);
  torch::Tensor no_bias;
  init_fan_in(attn.out_proj->weight, no_bias, gen);
  {
    torch::NoGradGuard guard;
    attn.in_proj_bias.zero_();
    attn.out_proj->bias.zero_();
  }
  init_fan_in(layer->linear1->weight, layer->linear1->bias, gen);
  init_fan_in(layer->linear2->weight, layer->linear2->bias, gen);
}

EmbeddingBlockImpl::EmbeddingBlockImpl(int64_t vocab, int64_t dim, at::Generator& gen) {
  embedding = register_module("embedding", torch::nn::Embedding(vocab, dim));
  torch::NoGradGuard guard;
  embedding->weight.normal_(0.0, 1.0, gen);  // PyTorch's Embedding default: N(0, 1)
}

namespace {

std::vector<int64_t> pooled_dims(Layout layout) {
  switch (layout) {
    case Layout::image:
      return {2, 3};
    case Layout::channels:
      return {2};
    case Layout::sequence:
      return {1};
    case Layout::flat:
    case Layout::tokens:
      break;
  }
  throw std::logic_error("global_avgpool on a " + to_string(layout) +
                         " input (Architecture::infer should have refused it)");
}

}  // namespace

torch::nn::AnyModule make_block_module(const Layer& l, const LayerInfo& info, at::Generator& gen) {
  using torch::nn::AnyModule;
  const auto& in = info.in_shape;
  switch (l.type) {
    case LayerType::residual:
      return AnyModule(ResidualBlock(in[0], l.out, l.effective_stride(), gen));
    case LayerType::bottleneck:
      return AnyModule(BottleneckBlock(in[0], l.mid, l.out, l.effective_stride(), gen));
    case LayerType::global_avgpool:
      return AnyModule(GlobalAvgPool(pooled_dims(info.in_layout)));
    case LayerType::conv1d: {
      auto conv = torch::nn::Conv1d(torch::nn::Conv1dOptions(in[0], l.out, l.kernel)
                                        .stride(l.effective_stride())
                                        .padding(l.padding));
      init_fan_in(conv->weight, conv->bias, gen);
      return AnyModule(conv);
    }
    case LayerType::maxpool1d:
      return AnyModule(torch::nn::MaxPool1d(
          torch::nn::MaxPool1dOptions(l.kernel).stride(l.effective_stride()).padding(l.padding)));
    case LayerType::lstm:
      return AnyModule(LstmBlock(in[1], l.out, l.depth, gen));
    case LayerType::last:
      return AnyModule(LastStep());
    case LayerType::encoder:
      return AnyModule(EncoderBlock(in[1], l.heads, l.out, gen));
    case LayerType::embedding:
      return AnyModule(EmbeddingBlock(l.vocab, l.out, gen));
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
  throw std::logic_error("make_block_module: " + to_string(l.type) +
                         " is built by build_model_impl");
}

}  // namespace thor
