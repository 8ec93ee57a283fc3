#pragma once
/// \file
/// Internal: the LibTorch side of thor::Model, for the few translation units
/// that need the modules themselves (training, pruning's weight surgery).
/// Including this header pulls in <torch/torch.h>; keep such files few.
#include <torch/script.h>
#include <torch/torch.h>

#include "thor/train.hpp"

namespace thor {

struct Model::Impl {
  Architecture arch;
  torch::Device device{torch::kCPU};
  torch::nn::Sequential net;
  /// Module of each architecture layer, in order (same objects as in `net`).
  std::vector<std::shared_ptr<torch::nn::Module>> modules;
  /// Batches fed by the training step so far.
  FeedStats stats;
};

/// Builds the LibTorch modules of `arch` with weights seeded by `seed`
/// (block types: thor/detail/torch_blocks.hpp).
std::unique_ptr<Model::Impl> build_model_impl(const Architecture& arch, uint64_t seed,
                                              const torch::Device& device);
/// Wraps an Impl (e.g. after weight surgery) into a Model.
Model make_model(std::unique_ptr<Model::Impl> impl);
/// torch::jit::load of `path`; a file that is not TorchScript is an
/// InputError naming it (torchscript.cpp).
torch::jit::Module load_torchscript_module(const std::string& path);
/// Samples [begin, begin+n) of `data` as tensors on `device`.
std::pair<torch::Tensor, torch::Tensor> dataset_tensors(const Dataset& data, int64_t begin,
                                                        int64_t n, const torch::Device& device);

}  // namespace thor
