#pragma once
/// \file
/// The search space: a network skeleton of one family and the choices at
/// each position. A point of the space is a Genome; SearchSpace::build turns
/// it into an Architecture. The families:
///  - cnn (the default): conv blocks, then hidden linear layers, then the classifier;
///  - resnet: a 3x3 conv stem, stages of residual blocks (the first of each
///    stage after the first with stride 2), global average pool, classifier;
///  - lstm: stacked one-layer LSTMs over a [T, F] sequence, its last step, classifier;
///  - transformer: a linear layer to the model dimension D, encoder layers,
///    the mean over time, classifier.
///
/// Choices that change a block's LayerKind (batch size, kernel, pooling, the
/// number of blocks, stages or layers, residual blocks per stage, attention
/// heads) are made once per network, not per layer: each such combination is
/// one "structure" that must be profiled up front, and per-layer choices
/// would multiply their count. Widths (channel counts, linear widths, the
/// channels of a ResNet stage, LSTM hidden sizes, D, feed-forward widths) are
/// GP features and cost no extra profiling.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "thor/architecture.hpp"
#include "thor/yaml_util.hpp"

namespace thor::search {

/// The random engine every strategy and sampler uses (seeded, per task).
using Rng = std::mt19937_64;

/// The kind of network a space holds (see the file comment).
enum class Family { cnn, resnet, lstm, transformer };
/// "cnn", "resnet", "lstm", "transformer".
std::string to_string(Family family);
/// The family of a name, or nothing for another name.
std::optional<Family> family_from_string(const std::string& name);

/// One point of a search space. The fields of other families than its own
/// stay at their defaults (a cnn genome has no widths, an lstm genome the
/// default kernel and pooling and no conv or linear layers).
struct Genome {
  Family family = Family::cnn;
  int64_t batch_size = 32;
  // cnn
  int64_t kernel = 3;           ///< square kernel of every conv layer (padding kernel/2)
  std::string pooling = "max";  ///< after every conv block: max, avg or none
  std::vector<int64_t> conv;    ///< output channels of each conv block (size = number of blocks)
  std::vector<int64_t> linear;  ///< widths of the hidden linear layers before the classifier
  // resnet, lstm, transformer
  /// resnet: channels of each stage (size = stages); lstm: hidden size of
  /// each layer; transformer: feed-forward width of each encoder layer.
  std::vector<int64_t> widths;
  int64_t blocks = 0;  ///< resnet: residual blocks per stage (every stage); 0 otherwise
  int64_t heads = 0;   ///< transformer: attention heads of every encoder layer; 0 otherwise
  int64_t dim = 0;     ///< transformer: model dimension D (divisible by heads); 0 otherwise

  bool operator==(const Genome& o) const;
  bool operator!=(const Genome& o) const { return !(*this == o); }
  bool operator<(const Genome& o) const;
  /// One line, e.g. "b32 k3 max conv[8,16] fc[64]", "b32 resnet x2 w[8,16]",
  /// "b32 lstm h[64,32]", "b32 transformer d64 h4 ff[128,128]".
  std::string to_string() const;
  /// A cnn genome's JSON has no "family" key (as before families existed).
  nlohmann::json to_json() const;
  /// Throws InputError naming `where` when a field is missing or mistyped.
  static Genome from_json(const nlohmann::json& j, const std::string& where);
};

/// Choices at each position of the skeleton. Only the fields of `family`
/// (and input, classes, batch_sizes) are used.
struct SearchSpace {
  /// Most widths a genome's network has (SearchSpace::fill_widths); validate() keeps to it.
  static constexpr size_t kMaxWidths = 32;

  Family family = Family::cnn;
  /// Per-sample input shape: [C, H, W] for cnn and resnet, [T, F] (time
  /// first; the network's layout is `sequence`) for lstm and transformer.
  std::vector<int64_t> input = {1, 28, 28};
  int64_t classes = 10;                     ///< outputs of the classifier
  std::vector<int64_t> batch_sizes = {32};  ///< more than one only when the recipe allows it
  // cnn
  std::vector<int64_t> conv_blocks = {1, 2, 3};    ///< how many conv(+relu+pool) blocks
  std::vector<int64_t> channels = {4, 8, 16, 32};  ///< output channels a conv layer may have
  std::vector<int64_t> kernels = {3, 5};           ///< conv kernel sides
  std::vector<std::string> pooling = {"max"};      ///< max, avg, none (pool of side pool_size)
  int64_t pool_size = 2;                           ///< kernel and stride of the pools
  std::vector<int64_t> linear_layers = {0, 1};     ///< hidden linear layers before the classifier
  std::vector<int64_t> linear_widths = {32, 64, 128};  ///< features a hidden linear layer may have
  // resnet
  std::vector<int64_t> stages = {2, 3};            ///< how many stages of residual blocks
  std::vector<int64_t> blocks_per_stage = {1, 2};  ///< residual blocks in every stage
  std::vector<int64_t> widths = {8, 16, 32};       ///< channels a stage (all its blocks) may have
  // lstm, transformer
  std::vector<int64_t> layers = {1, 2};        ///< stacked LSTM layers / encoder layers
  std::vector<int64_t> hidden = {16, 32, 64};  ///< lstm: hidden sizes a layer may have
  std::vector<int64_t> dims = {32, 64};        ///< transformer: model dimensions D
  /// transformer: attention heads (one count per network). Every dim must be
  /// a multiple of every head count: validate() rejects other spaces.
  std::vector<int64_t> heads = {2, 4};
  std::vector<int64_t> ff = {64, 128};  ///< transformer: feed-forward widths an encoder may have

  /// Throws InputError naming the field, its value and the rule; builds every
  /// structure at its largest channel counts and reports one that is not a
  /// valid network (e.g. too many pools for the input size).
  void validate() const;

  /// The network of a point. The genome must be in the space (contains()).
  Architecture build(const Genome& g) const;
  /// Whether every choice of `g` is one the space offers.
  bool contains(const Genome& g) const;
  /// A uniformly random point (structure first, then each channel count).
  Genome sample(Rng& rng) const;
  /// A copy with exactly one choice changed (when the space has any other
  /// value for it): a channel count or width moved to a neighbouring value or
  /// redrawn, a block, stage or layer added or removed, the kernel, pooling,
  /// blocks per stage, heads or batch size redrawn.
  Genome mutate(const Genome& g, Rng& rng) const;
  /// A child taking each choice from one of the two parents at random.
  Genome crossover(const Genome& a, const Genome& b, Rng& rng) const;

  /// Number of structures: batch × kernel × pooling × conv blocks × linear
  /// layers (cnn), batch × stages × blocks per stage (resnet), batch × layers
  /// (lstm), batch × layers × heads (transformer).
  size_t num_structures() const;
  /// Index in [0, num_structures()) of g's structure; g must be in the space.
  size_t structure_index(const Genome& g) const;
  /// One genome per structure with every channel count and width at its
  /// largest value: profiling these covers every point of the space.
  std::vector<Genome> skeletons() const;
  /// Number of points (a double: spaces grow combinatorially).
  double size() const;
  /// Calls `visit` with every point, structure by structure in skeletons()
  /// order, the first width counting fastest.
  void for_each_point(const std::function<void(const Genome&)>& visit) const;
  /// Writes the widths of build(g)'s parametric layers but the last (what a
  /// CostPlan of g's structure takes) to `out`, which holds kMaxWidths
  /// values; returns their count. Allocates nothing: the oracle calls it per query.
  size_t fill_widths(const Genome& g, int64_t* out) const;
  /// Text that changes whenever the space changes (for checkpoints).
  std::string fingerprint() const;
  nlohmann::json to_json() const;
};

/// Parses `search.space` of a recipe: `family` (default cnn) and that
/// family's keys; a key of another family is an error naming it. Every list
/// may also be written as a range {min: A, max: B, step: S} (step default 1,
/// or `factor: F` for a geometric range). An lstm or transformer space's
/// input defaults to [28, 28]. Errors name the file, line and key.
SearchSpace parse_space(const YamlCursor& cursor);

}  // namespace thor::search
