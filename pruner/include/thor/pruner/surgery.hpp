#pragma once
/// \file
/// Structural pruning of a trained thor::Model: choose which output channels
/// of each prunable layer survive (largest L1 norm of their filters, as Li et
/// al. 2017 and the random-pruning paper use to inherit weights), then build
/// the smaller network and copy every surviving weight into it:
///   conv: kept filters (rows) and biases, and the kept input channels;
///   batch norm: weight, bias, running mean/var of the kept channels;
///   linear after flatten: the input columns of kept channels × every spatial
///   position (column c·H·W + p); linear after linear: the kept inputs;
///   the last layer keeps all outputs (the classes).
/// The result computes exactly what the original computes when the dropped
/// channels are zeroed (filters, biases and batch-norm affine set to 0).
#include <cstdint>
#include <vector>

#include "thor/pruner/strategy.hpp"
#include "thor/train.hpp"

namespace thor::pruner {

/// Kept output channels per prunable layer, as ascending indices into the
/// original layer's outputs.
using KeepIndices = std::vector<std::vector<int64_t>>;

/// L1 norm of every output filter (conv: over in × k × k, plus nothing else;
/// linear: over its input row) of each prunable layer.
std::vector<std::vector<double>> filter_l1_norms(const Model& model);

/// The `channels[i]` filters with the largest L1 norms in prunable layer i
/// (ties: lower index first), sorted ascending. Throws InputError when the
/// count of entries is wrong or a count is outside [1, the layer's count].
KeepIndices select_channels_l1(const Model& model, const ChannelConfig& channels);

/// The smaller model: architecture().with_channels(sizes of keep), weights
/// copied as described above, same device, in training mode. Throws
/// InputError when `keep` does not fit the model. Safe to call from several
/// threads on the same source model (it only reads it).
Model prune_model(const Model& model, const KeepIndices& keep);

/// select_channels_l1 then prune_model.
Model prune_model_l1(const Model& model, const ChannelConfig& channels);

}  // namespace thor::pruner
