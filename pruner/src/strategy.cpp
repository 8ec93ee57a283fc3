#include "thor/pruner/strategy.hpp"

#include <algorithm>
#include <cmath>

#include "thor/error.hpp"

namespace thor::pruner {

PruneSpace PruneSpace::from_baseline(const ChannelConfig& baseline, double min_keep,
                                     std::vector<int64_t> multiples) {
  PruneSpace s;
  s.baseline = baseline;
  s.min_keep = min_keep;
  s.multiple = multiples.empty() ? std::vector<int64_t>(baseline.size(), 1) : std::move(multiples);
  for (size_t i = 0; i < baseline.size(); ++i) {
    const int64_t m = std::max<int64_t>(1, s.multiple[i]);
    const auto want =
        static_cast<int64_t>(std::ceil(min_keep * static_cast<double>(baseline[i]) - 1e-9));
    s.lower.push_back(
        std::clamp<int64_t>((want + m - 1) / m * m, m, std::max<int64_t>(m, baseline[i])));
  }
  return s;
}

ChannelConfig PruneSpace::clamp(ChannelConfig c) const {
  for (size_t i = 0; i < c.size() && i < baseline.size(); ++i) {
    const int64_t m = i < multiple.size() ? std::max<int64_t>(1, multiple[i]) : 1;
    c[i] = static_cast<int64_t>(std::llround(static_cast<double>(c[i]) / m)) * m;
    c[i] = std::clamp(c[i], lower[i], baseline[i]);
  }
  return c;
}

namespace {

int64_t keep_count(double ratio, int64_t baseline) {
  return static_cast<int64_t>(std::llround(ratio * static_cast<double>(baseline)));
}

// Li et al. (CVPR 2022) sample each layer's keep ratio independently and
// uniformly; the budget filter then shapes the distribution, which is what
// lets random search find non-obvious per-layer allocations.
class RandomStrategy final : public PruningStrategy {
 public:
  std::string name() const override { return "random"; }
  std::vector<ChannelConfig> propose(const PruneSpace& space, size_t count,
                                     std::mt19937_64& rng) const override {
    std::uniform_real_distribution<double> keep(space.min_keep, 1.0);
    std::vector<ChannelConfig> out;
    out.reserve(count);
    for (size_t n = 0; n < count; ++n) {
      ChannelConfig c(space.baseline.size());
      for (size_t i = 0; i < c.size(); ++i) c[i] = keep_count(keep(rng), space.baseline[i]);
      out.push_back(space.clamp(std::move(c)));
    }
    return out;
  }
};

// The simple baseline: every layer keeps the same fraction. An even grid
// (not random draws) so that a small count still covers [min_keep, 1].
class UniformStrategy final : public PruningStrategy {
 public:
  std::string name() const override { return "uniform"; }
  std::vector<ChannelConfig> propose(const PruneSpace& space, size_t count,
                                     std::mt19937_64&) const override {
    std::vector<ChannelConfig> out;
    out.reserve(count);
    for (size_t n = 0; n < count; ++n) {
      const double r = count == 1
                           ? space.min_keep
                           : space.min_keep + (1.0 - space.min_keep) * static_cast<double>(n) /
                                                  static_cast<double>(count - 1);
      ChannelConfig c(space.baseline.size());
      for (size_t i = 0; i < c.size(); ++i) c[i] = keep_count(r, space.baseline[i]);
      out.push_back(space.clamp(std::move(c)));
    }
    return out;
  }
};

}  // namespace

Registry<PruningStrategyFactory>& pruning_strategies() {
  static Registry<PruningStrategyFactory> registry("pruning strategy", [] {
    return Registry<PruningStrategyFactory>::Entries{
        {"random", [] { return std::make_unique<RandomStrategy>(); }},
        {"uniform", [] { return std::make_unique<UniformStrategy>(); }}};
  });
  return registry;
}

std::unique_ptr<PruningStrategy> make_pruning_strategy(const std::string& name) {
  return pruning_strategies().create(name);
}

}  // namespace thor::pruner
