#pragma once
/// \file
/// Structural pruning of a trained thor::Model, group by group (see
/// thor/pruner/groups.hpp): choose which channels of each channel group
/// survive (largest L1 norm of the filters that produce them, summed over
/// the group's layers, as Li et al. 2017 and the random-pruning paper use to
/// inherit weights), then build the smaller network and copy every surviving
/// weight into it, by layer type:
///   conv, conv1d, linear: kept filters (rows) and biases, kept input columns
///   (after flatten: every spatial position of a kept channel);
///   batch norm: weight, bias, running mean/var of the kept channels;
///   ResNet blocks: both convs, their batch norms and the projection; a
///   bottleneck's inner width keeps its own strongest channels;
///   LSTM: the kept units' rows in all four gates and their recurrent
///   columns; lower stacked layers keep their own strongest units;
///   embedding: the kept columns; encoder: the kept model dimensions in the
///   attention, feed-forward and both layer norms, the kept feed-forward
///   units, and per head the same share of its query/key and value
///   dimensions (queries rescaled so that q·k / sqrt(head dim) is unchanged);
///   the classifier keeps all outputs (the classes).
/// Removing channels whose producing weights are zero leaves the outputs
/// unchanged, except through a Transformer's layer norms over the model
/// dimension (their mean and variance run over the kept dimensions).
#include <cstdint>
#include <vector>

#include "thor/pruner/groups.hpp"
#include "thor/pruner/strategy.hpp"
#include "thor/train.hpp"

namespace thor::pruner {

/// Kept channels per channel group, as ascending indices into the group's
/// original channels.
using KeepIndices = std::vector<std::vector<int64_t>>;

/// Importance of every channel of each group: the L1 norm of the weights
/// producing it (conv: its filter; linear: its row; ResNet block: its second
/// (or third) conv's filter; LSTM: its four gate rows; embedding: its column;
/// encoder feed-forward: its first linear's row), summed over the group's
/// layers, each layer scaled by its mean when the group has several.
std::vector<std::vector<double>> filter_l1_norms(const Model& model);

/// The `channels[i]` channels of group i with the largest importance (ties:
/// lower index first), sorted ascending. Throws InputError unless `channels`
/// fits ChannelGroups::check.
KeepIndices select_channels_l1(const Model& model, const ChannelConfig& channels);

/// The smaller model: ChannelGroups::apply(sizes of keep), weights copied as
/// described above, same device, in training mode. Throws InputError when
/// `keep` does not fit the model's groups. Safe to call from several
/// threads on the same source model (it only reads it).
Model prune_model(const Model& model, const KeepIndices& keep);

/// select_channels_l1 then prune_model.
Model prune_model_l1(const Model& model, const ChannelConfig& channels);

}  // namespace thor::pruner
