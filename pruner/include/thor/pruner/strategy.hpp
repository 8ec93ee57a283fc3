#pragma once
/// \file
/// Pruning strategies: where channel configurations to try come from. The
/// loop (thor::run_pruning) asks a strategy for many configurations, keeps
/// those the energy oracle puts within the budget, and ranks the survivors
/// by a short fine-tune. A strategy never sees the oracle or the data, so
/// adding one is a class of a few lines plus a registry entry.
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "thor/registry.hpp"

namespace thor::pruner {

/// One channel count per channel group (thor/pruner/groups.hpp), in
/// architecture order. For a plain CNN every parametric layer but the last
/// (whose count is the number of classes) is a group of its own.
using ChannelConfig = std::vector<int64_t>;

/// What a strategy may choose from.
struct PruneSpace {
  ChannelConfig baseline;         ///< the unpruned counts (the upper ends)
  ChannelConfig lower;            ///< smallest count allowed per group (>= multiple)
  std::vector<int64_t> multiple;  ///< counts are multiples of these (encoder heads; 1 mostly)
  double min_keep = 0.2;          ///< smallest keep ratio the recipe allows, in (0, 1]

  /// Space of `baseline` with lower[i] = ceil(min_keep * baseline[i]) rounded
  /// up to a multiple (at least one multiple). `multiples` empty: all 1.
  static PruneSpace from_baseline(const ChannelConfig& baseline, double min_keep,
                                  std::vector<int64_t> multiples = {});
  /// Rounds `channels` to the nearest multiples and clamps them into
  /// [lower, baseline] element-wise.
  ChannelConfig clamp(ChannelConfig channels) const;
};

/// Proposes channel configurations. Implementations hold no mutable state.
class PruningStrategy {
 public:
  PruningStrategy() = default;
  virtual ~PruningStrategy() = default;
  PruningStrategy(const PruningStrategy&) = delete;
  PruningStrategy& operator=(const PruningStrategy&) = delete;

  /// The registry name ("random", "uniform", ...).
  virtual std::string name() const = 0;

  /// Returns up to `count` configurations. Contract: every configuration has
  /// space.baseline.size() entries with lower[i] <= c[i] <= baseline[i]; the
  /// result depends only on `space`, `count` and the state of `rng`;
  /// repeats are allowed (the loop drops duplicates); no other side effects.
  virtual std::vector<ChannelConfig> propose(const PruneSpace& space, size_t count,
                                             std::mt19937_64& rng) const = 0;
};

using PruningStrategyFactory = std::function<std::unique_ptr<PruningStrategy>()>;

/// The pruning strategies by name. Built in: "random" (Li et al., CVPR
/// 2022: an independent keep ratio per layer, uniform in [min_keep, 1]) and
/// "uniform" (one keep ratio for all layers, on an even grid over
/// [min_keep, 1]). Add your own with pruning_strategies().add(name, factory).
Registry<PruningStrategyFactory>& pruning_strategies();
/// Builds a strategy by name; an unknown name is an InputError listing the
/// registered ones.
std::unique_ptr<PruningStrategy> make_pruning_strategy(const std::string& name);

}  // namespace thor::pruner
