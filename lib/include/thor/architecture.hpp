#pragma once
/// \file
/// Architectures: an input shape, a batch size and an ordered list of
/// layers, loaded from and written back to YAML, with shapes inferred layer
/// by layer and FLOPs / parameters counted for one training iteration.
#include <cstdint>
#include <string>
#include <vector>

#include "thor/error.hpp"

namespace YAML {
class Node;
}

namespace thor {

struct YamlCursor;

enum class LayerType {
  conv,
  linear,
  batchnorm,
  relu,
  maxpool,
  avgpool,
  flatten,
  dropout,
  residual,        ///< ResNet basic block (two 3x3 convs, shortcut)
  bottleneck,      ///< ResNet bottleneck block (1x1, 3x3, 1x1 convs, shortcut)
  global_avgpool,  ///< [C,H,W] or [C,L] -> [C]; [T,D] -> [D] (mean over time)
  conv1d,          ///< on channels-first [C, L]
  maxpool1d,       ///< on channels-first [C, L]
  lstm,            ///< on time-first [T, F] -> [T, H]
  last,            ///< [T, H] -> [H]: the last time step
  encoder,         ///< Transformer encoder layer on [T, D] (post-norm, ReLU, dropout 0.1)
  embedding        ///< token ids [T] -> [T, D]
};

/// "conv", "linear", ... as written in YAML.
std::string to_string(LayerType type);

/// How a per-sample tensor is laid out. A 3-D input is an image and a 1-D
/// input a feature vector unless the architecture's `layout` key says it
/// holds tokens; a 2-D input needs `layout: channels` ([C, L], for conv1d)
/// or `layout: sequence` ([T, F], time first, for lstm and encoder).
enum class Layout { image, flat, channels, sequence, tokens };
std::string to_string(Layout layout);

/// One layer. Fields a layer type does not use stay at their defaults.
struct Layer {
  LayerType type = LayerType::relu;
  int64_t out = 0;      ///< conv: output channels; linear: output features
  int64_t kernel = 0;   ///< conv, maxpool, avgpool: square kernel side
  int64_t stride = 0;   ///< conv: default 1; pools: default = kernel
  int64_t padding = 0;  ///< conv and pools
  double p = 0.5;       ///< dropout probability
  int64_t mid = 0;      ///< bottleneck: channels of its inner 3x3 conv
  int64_t heads = 0;    ///< encoder: attention heads (divides the model dimension)
  int64_t depth = 1;    ///< lstm: stacked layers
  int64_t vocab = 0;    ///< embedding: number of token ids

  // `out` is the width a layer's channel count sets and pruning changes:
  // conv, conv1d, residual, bottleneck: output channels; linear: features;
  // lstm: hidden size; embedding: dimension; encoder: feed-forward width
  // (its model dimension is its input's and does not change).

  /// The layers whose widths are chosen (and pruned); each starts a block.
  bool parametric() const;
  /// Whether the next block's input width is this layer's `out` (all
  /// parametric layers but encoder, which keeps its input's dimension).
  bool sets_width() const { return parametric() && type != LayerType::encoder; }
  /// Effective stride (defaults applied).
  int64_t effective_stride() const;

  static Layer conv(int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0);
  static Layer linear(int64_t out);
  static Layer simple(LayerType type);
  static Layer pool(LayerType type, int64_t kernel, int64_t stride = 0);
  static Layer dropout(double p);
  static Layer residual(int64_t out, int64_t stride = 1);
  static Layer bottleneck(int64_t mid, int64_t out, int64_t stride = 1);
  static Layer conv1d(int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0);
  static Layer lstm(int64_t hidden, int64_t depth = 1);
  static Layer encoder(int64_t heads, int64_t ff);
  static Layer embedding(int64_t vocab, int64_t dim);
  bool operator==(const Layer& o) const;
  bool operator!=(const Layer& o) const { return !(*this == o); }
};

/// Shapes, parameters and FLOPs of one layer inside an architecture.
struct LayerInfo {
  std::vector<int64_t> in_shape;   ///< per sample, [C, H, W], [F], [C, L], [T, F] or [T]
  std::vector<int64_t> out_shape;  ///< per sample
  Layout in_layout = Layout::image;
  Layout out_layout = Layout::image;
  int64_t params = 0;        ///< trainable parameters
  double forward_flops = 0;  ///< one forward pass of one batch
  double train_flops = 0;    ///< forward + backward + SGD step, one batch
};

/// A feed-forward network for classification.
struct Architecture {
  std::vector<int64_t> input;  ///< per-sample shape: [C, H, W], [features], [C, L], [T, F], [T]
  /// Layout of `input`; automatic: image for 3-D, flat for 1-D (2-D inputs
  /// must say channels or sequence).
  enum class InputLayout { automatic, channels, sequence, tokens } layout = InputLayout::automatic;
  int64_t batch_size = 32;
  std::vector<Layer> layers;

  /// The input's layout with the defaults applied; throws InputError for a
  /// 2-D input without `layout` or a layout that does not fit the shape.
  Layout input_layout() const;
  /// Channels (or features) of the data: C of [C, H, W] / [C, L], F of [F] /
  /// [T, F], 1 for tokens. The input width of the first block.
  int64_t input_channels() const;

  /// Shapes, params and FLOPs per layer. Throws InputError naming the
  /// layer index and type and the reason when the network is impossible.
  std::vector<LayerInfo> infer() const;
  /// Throws InputError when infer() would, or when the output is not flat.
  void validate() const;
  /// Features of the final output (the number of classes).
  int64_t num_outputs() const;
  /// Totals over all layers for one training iteration.
  double train_flops() const;
  int64_t params() const;
  /// Output channels of every parametric layer, in order.
  std::vector<int64_t> channels() const;
  /// Copy with the parametric layers' `out` replaced by `channels`
  /// (the final layer's count, the number of classes, is kept if `channels`
  /// has one entry fewer than there are parametric layers).
  Architecture with_channels(const std::vector<int64_t>& channels) const;

  /// YAML text as the architecture file format (round-trips through parse).
  std::string to_yaml() const;
  /// One line, e.g. "[1,28,28] b32: conv(6,k5,p2) relu maxpool(2) ...".
  std::string summary() const;

  bool operator==(const Architecture& o) const;
  bool operator!=(const Architecture& o) const { return !(*this == o); }
};

/// Parses an architecture from a YAML node; `where` (a file name) and the
/// node's line numbers prefix every error.
Architecture parse_architecture(const YAML::Node& node, const std::string& where);
/// Same, from a cursor into a larger document (a recipe's `model` key).
Architecture parse_architecture_cursor(const YamlCursor& cursor);
/// Loads an architecture YAML file (the whole file, or its `model` key when
/// it is a recipe). Throws InputError naming the file and line.
Architecture load_architecture(const std::string& path);
/// Parses YAML text (for tests and embedded architectures).
Architecture architecture_from_yaml_text(const std::string& text,
                                         const std::string& where = "<text>");

}  // namespace thor
