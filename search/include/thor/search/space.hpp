#pragma once
/// \file
/// The search space: a CNN skeleton (conv blocks, then hidden linear layers,
/// then the classifier) and the choices at each position. A point of the
/// space is a Genome; SearchSpace::build turns it into an Architecture.
///
/// Choices that change a block's LayerKind (batch size, kernel, pooling, the
/// number of conv blocks and of linear layers) are made once per network, not
/// per layer: each such combination is one "structure" that must be profiled
/// up front, and per-layer choices would multiply their count. Channel counts
/// and linear widths are chosen per layer; they are GP features and cost no
/// extra profiling.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "thor/architecture.hpp"
#include "thor/yaml_util.hpp"

namespace thor::search {

/// The random engine every strategy and sampler uses (seeded, per task).
using Rng = std::mt19937_64;

/// One point of a search space.
struct Genome {
  int64_t batch_size = 32;
  int64_t kernel = 3;           ///< square kernel of every conv layer (padding kernel/2)
  std::string pooling = "max";  ///< after every conv block: max, avg or none
  std::vector<int64_t> conv;    ///< output channels of each conv block (size = number of blocks)
  std::vector<int64_t> linear;  ///< widths of the hidden linear layers before the classifier

  bool operator==(const Genome& o) const;
  bool operator!=(const Genome& o) const { return !(*this == o); }
  bool operator<(const Genome& o) const;
  /// One line, e.g. "b32 k3 max conv[8,16] fc[64]".
  std::string to_string() const;
  nlohmann::json to_json() const;
  /// Throws InputError naming `where` when a field is missing or mistyped.
  static Genome from_json(const nlohmann::json& j, const std::string& where);
};

/// Choices at each position of the skeleton.
struct SearchSpace {
  std::vector<int64_t> input = {1, 28, 28};        ///< per-sample input shape
  int64_t classes = 10;                            ///< outputs of the classifier
  std::vector<int64_t> batch_sizes = {32};         ///< more than one only when the recipe allows it
  std::vector<int64_t> conv_blocks = {1, 2, 3};    ///< how many conv(+relu+pool) blocks
  std::vector<int64_t> channels = {4, 8, 16, 32};  ///< output channels a conv layer may have
  std::vector<int64_t> kernels = {3, 5};           ///< conv kernel sides
  std::vector<std::string> pooling = {"max"};      ///< max, avg, none (pool of side pool_size)
  int64_t pool_size = 2;                           ///< kernel and stride of the pools
  std::vector<int64_t> linear_layers = {0, 1};     ///< hidden linear layers before the classifier
  std::vector<int64_t> linear_widths = {32, 64, 128};  ///< features a hidden linear layer may have

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
  /// redrawn, a block added or removed, the kernel, pooling or batch size redrawn.
  Genome mutate(const Genome& g, Rng& rng) const;
  /// A child taking each choice from one of the two parents at random.
  Genome crossover(const Genome& a, const Genome& b, Rng& rng) const;

  /// Number of structures (batch × kernel × pooling × conv blocks × linear layers).
  size_t num_structures() const;
  /// Index in [0, num_structures()) of g's structure; g must be in the space.
  size_t structure_index(const Genome& g) const;
  /// One genome per structure with every channel count and width at its
  /// largest value: profiling these covers every point of the space.
  std::vector<Genome> skeletons() const;
  /// Number of points (a double: spaces grow combinatorially).
  double size() const;
  /// Text that changes whenever the space changes (for checkpoints).
  std::string fingerprint() const;
  nlohmann::json to_json() const;
};

/// Parses `search.space` of a recipe. Every list may also be written as a
/// range {min: A, max: B, step: S} (step default 1, or `factor: F` for a
/// geometric range). Errors name the file, line and key.
SearchSpace parse_space(const YamlCursor& cursor);

}  // namespace thor::search
