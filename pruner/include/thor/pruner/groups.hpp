#pragma once
/// \file
/// Channel groups: the widths of a network that must be pruned together
/// (Torch-Pruning's dependency groups, derived from thor's layer list rather
/// than traced). A pruning configuration (ChannelConfig) holds one count per
/// group; ChannelGroups turns it into the widths of every layer.
///
/// The rules, walking the parametric layers in order (the classifier, the
/// last one, is never pruned):
///  - conv, conv1d, linear, lstm (hidden units across its four gates and the
///    next layer's input), embedding and a projection ResNet block start a
///    group of their own;
///  - a ResNet block with an identity shortcut (stride 1, input width = its
///    width) joins the group of the layer that sets its input's width: a
///    stage's stem or projection block and every identity block after it are
///    one group. Fed by the data itself, its width cannot change;
///  - an encoder's feed-forward width is a group of its own; its model
///    dimension D is the group of the layer that sets D, and that group's
///    width stays a multiple of every head count reading it (heads are kept,
///    each keeps the same share of D);
///  - a bottleneck's inner width follows its output width at the baseline's
///    ratio (the ratio is part of its layer kind), so the group's width is a
///    multiple of what keeps that ratio exact.
/// Inside a block, widths that no other layer sees (a bottleneck's inner
/// width, a stacked LSTM's lower layers, the attention's per-head dimension)
/// follow from the group's count; surgery chooses their channels freely.
#include <cstdint>
#include <string>
#include <vector>

#include "thor/architecture.hpp"
#include "thor/pruner/strategy.hpp"

namespace thor::pruner {

/// Widths that are pruned as one.
struct ChannelGroup {
  /// Indices into Architecture::channels() whose width is this group's.
  std::vector<size_t> members;
  /// Architecture layer index of each member.
  std::vector<size_t> layers;
  int64_t width = 0;     ///< the baseline's width
  int64_t multiple = 1;  ///< counts must be multiples of this
  /// e.g. "conv@0 + residual@4,5,6" (type@layer index).
  std::string describe(const Architecture& arch) const;
};

class ChannelGroups {
 public:
  /// The groups of `arch` (validated first). Throws InputError when nothing
  /// of the network can be pruned (every hidden width is fixed).
  static ChannelGroups of(const Architecture& arch);

  const std::vector<ChannelGroup>& groups() const { return groups_; }
  size_t size() const { return groups_.size(); }
  /// Every group's baseline width.
  ChannelConfig baseline() const;
  /// Every group's multiple.
  std::vector<int64_t> multiples() const;
  /// Throws InputError unless `counts` has one entry per group, each in
  /// [multiple, width] and a multiple of the group's multiple.
  void check(const ChannelConfig& counts) const;
  /// The width of every parametric layer but the classifier for `counts`
  /// (what CostPlan::predict takes). Checks `counts` first.
  std::vector<int64_t> widths(const ChannelConfig& counts) const;
  /// The pruned architecture (bottleneck inner widths scaled with their
  /// output width). Checks `counts` first.
  Architecture apply(const ChannelConfig& counts) const;
  /// One line per group, for reports and `--dry-run`.
  std::string describe() const;
  const Architecture& architecture() const { return arch_; }

 private:
  Architecture arch_;
  std::vector<ChannelGroup> groups_;
};

}  // namespace thor::pruner
