#pragma once
// Internal: the TorchScript submodules that Model::export_torchscript builds,
// one per architecture layer, each of a class named like the torch.nn (or
// torchvision) module it mirrors, with a forward written over aten ops.
// torchscript.cpp holds the plain layers and the whole model,
// torchscript_export_blocks.cpp the block layer types.
#include <torch/script.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "thor/architecture.hpp"

namespace thor::detail {

/// Registers a detached CPU copy of `t` as parameter `name` of `m`.
void export_param(torch::jit::Module& m, const std::string& name, const torch::Tensor& t);
/// Registers `v` as an int-list attribute `name` of `m` (kernel sizes, strides, ...).
void export_ints(torch::jit::Module& m, const std::string& name, std::vector<int64_t> v);
/// Defines `def forward(self, x):` of `m` with `body` (lines of TorchScript,
/// indented here). Children and attributes the body uses must be registered first.
void define_forward(torch::jit::Module& m, const std::string& body);

/// A Conv1d or Conv2d (by the weight's rank) over torch.conv1d/conv2d with
/// square `stride` and `padding`; an undefined `bias` is None.
torch::jit::Module export_conv(const torch::Tensor& weight, const torch::Tensor& bias,
                               int64_t stride, int64_t padding);
/// A BatchNorm1d or BatchNorm2d (by the LibTorch module's type) in eval mode:
/// its running statistics normalise.
torch::jit::Module export_batchnorm(const torch::nn::Module& bn);
/// A Linear over torch.linear.
torch::jit::Module export_linear(const torch::nn::LinearImpl& linear);
/// A MaxPool2d, AvgPool2d or MaxPool1d of a pool layer.
torch::jit::Module export_pool(const Layer& pool);

/// The submodule of a layer of a block type (residual, bottleneck,
/// global_avgpool, conv1d, maxpool1d, lstm, last, encoder, embedding) whose
/// LibTorch module (make_block_module's) is `mod` and input `info`.
torch::jit::Module export_block(const Layer& layer, const LayerInfo& info,
                                const torch::nn::Module& mod);

}  // namespace thor::detail
