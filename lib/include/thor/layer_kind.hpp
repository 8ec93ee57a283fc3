#pragma once
/// \file
/// Layer parsing of the paper (section 3.2): a network is split into
/// blocks, each a parametric layer (conv, linear) with the non-parametric
/// layers after it. The first block is the input block, the last the output
/// block, the rest hidden. A block's LayerKind key holds everything but its
/// channel counts; its features are the channel counts: C_out for input
/// blocks, C_in for output blocks, (C_in, C_out) for hidden ones. Two
/// blocks with the same key share one energy model.
///
/// ResNet blocks with an identity shortcut have C_in = C_out by
/// construction ("tied"): their hidden kind has the one feature C_out. The
/// width of a [T, D] sequence (an lstm's or encoder's input) is D; an
/// encoder's C_out is its feed-forward width, and the block after it reads
/// the encoder's input width D.
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
  /// Layout of in_structured.
  Layout in_layout = Layout::image;
  /// Identity-shortcut ResNet block: C_in = C_out, one hidden feature.
  bool tied = false;
  /// The block's work grows with the square of a width (ResNet blocks,
  /// lstm, encoder): its energy model gets squared work terms.
  bool quadratic = false;
  /// Each feature must be a multiple of this (an encoder's model dimension
  /// of its head count; 1 otherwise).
  std::vector<int64_t> multiple;
  /// Channel features of this block's kind (see the file comment).
  std::vector<double> features;
  /// The LayerKind key.
  std::string key;
};

/// Splits a valid architecture into blocks. A network with one parametric
/// layer has a single output block.
std::vector<LayerBlock> split_blocks(const Architecture& arch);

/// The features vector of a block with the given channels.
std::vector<double> block_features(BlockRole role, int64_t c_in, int64_t c_out, bool tied = false);

/// What a kind's key says about its model: the number of features, and
/// whether the block is tied or quadratic (as split_blocks sets them).
struct KindTraits {
  size_t features = 1;
  bool tied = false;
  bool quadratic = false;
};
KindTraits kind_traits(BlockRole role, const std::string& key);

/// Per entry of Architecture::channels(): the multiple its width must be
/// (the head counts of the encoders reading it; 1 for most layers). Random
/// or pruned widths are rounded to these.
std::vector<int64_t> width_multiples(const Architecture& arch);

/// `base` with its widths set to `channels` (as with_channels) made legal:
/// a block that has an identity shortcut in `base` keeps it (its width
/// follows its input's), and widths round down to width_multiples (at least
/// one multiple). How random family members and anchors are drawn.
Architecture conform_widths(const Architecture& base, std::vector<int64_t> channels);

/// The width of a per-sample shape in a layout: C of [C, H, W] / [C, L],
/// F of [F], D of [T, D]; 1 for tokens.
int64_t layout_width(const std::vector<int64_t>& shape, Layout layout);

}  // namespace thor
