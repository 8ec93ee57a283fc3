#pragma once
/// \file
/// Layer parsing of the paper (section 3.2): a network is split into
/// blocks, each a parametric layer (conv, linear) with the non-parametric
/// layers after it. The first block is the input block, the last the output
/// block, the rest hidden. A block's LayerKind key holds everything but its
/// channel counts; its features are the channel counts: C_out for input
/// blocks, C_in for output blocks, (C_in, C_out) for hidden ones. Two
/// blocks with the same key share one energy model.
#include <string>
#include <vector>

#include "thor/architecture.hpp"

namespace thor {

enum class BlockRole { input, hidden, output };
std::string to_string(BlockRole role);

struct LayerBlock {
  BlockRole role = BlockRole::hidden;
  size_t first = 0;  ///< first layer index in the architecture (inclusive)
  size_t last = 0;   ///< last layer index (inclusive)
  size_t param = 0;  ///< index of the parametric layer
  /// The block's layers in order (leading non-parametric layers, the
  /// parametric layer, its followers).
  std::vector<Layer> layers;
  /// Shape of the tensor entering the block, per sample.
  std::vector<int64_t> in_shape;
  /// in_shape with its channel structure: for a linear layer fed by a
  /// flatten in the previous block this is the pre-flatten [C, H, W].
  std::vector<int64_t> in_structured;
  /// Whether the block's input arrives flattened from a [C, H, W] tensor.
  bool flattened_input = false;
  int64_t c_in = 0;   ///< input channels (pre-flatten C for flattened inputs)
  int64_t c_out = 0;  ///< output channels / features of the parametric layer
  /// Channel features of this block's kind (see the file comment).
  std::vector<double> features;
  /// The LayerKind key.
  std::string key;
};

/// Splits a valid architecture into blocks. A network with one parametric
/// layer has a single output block.
std::vector<LayerBlock> split_blocks(const Architecture& arch);

/// The features vector of a block with the given channels.
std::vector<double> block_features(BlockRole role, int64_t c_in, int64_t c_out);

}  // namespace thor
