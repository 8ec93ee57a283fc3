#pragma once
/// \file
/// Internal: the LibTorch modules of thor's block layer types (residual and
/// bottleneck blocks, conv1d, maxpool1d, global_avgpool, lstm, last, encoder,
/// embedding) and the seeded initialisation that every module of a
/// thor::Model gets. Including this header pulls in <torch/torch.h>.
#include <torch/torch.h>

#include <vector>

#include "thor/architecture.hpp"

namespace thor {

/// Fills `t` in place with uniform(-bound, bound) draws from `gen`, outside autograd.
void init_uniform(torch::Tensor& t, double bound, at::Generator& gen);
/// torch's default for conv and linear layers (kaiming_uniform with
/// a = sqrt(5)): weight and bias uniform in +-1/sqrt(fan_in), fan_in being
/// the weight's numel over its first dimension. `bias` may be undefined.
void init_fan_in(torch::Tensor& weight, torch::Tensor& bias, at::Generator& gen);

/// torchvision's BasicBlock: conv3x3(stride)-BN-ReLU-conv3x3-BN plus a
/// shortcut (identity, or conv1x1(stride)-BN when the stride or the width
/// changes), ReLU after the sum. Convolutions have no bias.
struct ResidualBlockImpl : torch::nn::Module {
  ResidualBlockImpl(int64_t in, int64_t out, int64_t stride, at::Generator& gen);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};  ///< null for the identity shortcut
};
TORCH_MODULE(ResidualBlock);

/// torchvision's Bottleneck (v1.5, the stride on the 3x3 conv):
/// conv1x1-BN-ReLU-conv3x3(stride)-BN-ReLU-conv1x1-BN plus the shortcut of
/// ResidualBlock, ReLU after the sum.
struct BottleneckBlockImpl : torch::nn::Module {
  BottleneckBlockImpl(int64_t in, int64_t mid, int64_t out, int64_t stride, at::Generator& gen);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};  ///< null for the identity shortcut
};
TORCH_MODULE(BottleneckBlock);

/// Mean over the given dimensions of a batched tensor: {2, 3} for images,
/// {2} for channels-first [B, C, L], {1} (time) for sequences [B, T, D].
struct GlobalAvgPoolImpl : torch::nn::Module {
  explicit GlobalAvgPoolImpl(std::vector<int64_t> dims) : dims(std::move(dims)) {}
  torch::Tensor forward(torch::Tensor x) { return x.mean(dims); }
  std::vector<int64_t> dims;
};
TORCH_MODULE(GlobalAvgPool);

/// The last time step of a sequence: [B, T, H] -> [B, H].
struct LastStepImpl : torch::nn::Module {
  torch::Tensor forward(torch::Tensor x) { return x.select(1, -1); }
};
TORCH_MODULE(LastStep);

/// A batch-first LSTM that returns its output sequence [B, T, H] only.
struct LstmBlockImpl : torch::nn::Module {
  LstmBlockImpl(int64_t in, int64_t hidden, int64_t layers, at::Generator& gen);
  torch::Tensor forward(torch::Tensor x) { return std::get<0>(lstm->forward(x)); }
  torch::nn::LSTM lstm{nullptr};
};
TORCH_MODULE(LstmBlock);

/// A Transformer encoder layer (post-norm, ReLU, dropout 0.1) on batch-first
/// [B, T, D]; LibTorch 1.13's layer takes time-first [T, B, D].
struct EncoderBlockImpl : torch::nn::Module {
  EncoderBlockImpl(int64_t dim, int64_t heads, int64_t ff, at::Generator& gen);
  torch::Tensor forward(torch::Tensor x) { return layer(x.transpose(0, 1)).transpose(0, 1); }
  torch::nn::TransformerEncoderLayer layer{nullptr};
};
TORCH_MODULE(EncoderBlock);

/// Token ids [B, T] -> [B, T, D]. Datasets hold floats: ids are cast to int64.
struct EmbeddingBlockImpl : torch::nn::Module {
  EmbeddingBlockImpl(int64_t vocab, int64_t dim, at::Generator& gen);
  torch::Tensor forward(torch::Tensor x) { return embedding(x.to(torch::kLong)); }
  torch::nn::Embedding embedding{nullptr};
};
TORCH_MODULE(EmbeddingBlock);

/// The module of a layer of a block type (residual, bottleneck,
/// global_avgpool, conv1d, maxpool1d, lstm, last, encoder, embedding) whose
/// input is described by `info`, its parameters drawn from `gen`.
torch::nn::AnyModule make_block_module(const Layer& layer, const LayerInfo& info,
                                       at::Generator& gen);

}  // namespace thor
