#pragma once
// A first-improvement hill climber: start from one random feasible network,
// propose mutations of the best one seen so far, move when one is better.
#include <optional>

#include "thor/search/strategy.hpp"

class HillClimb final : public thor::search::Strategy {
 public:
  explicit HillClimb(const thor::search::StrategyContext& context);

  std::string name() const override { return "hill-climb"; }
  std::vector<thor::search::Genome> propose(size_t n) override;
  void observe(const std::vector<thor::search::Candidate>& results) override;

 private:
  thor::search::StrategyContext context_;
  thor::search::Rng rng_;  // seeded from the search seed: same seed, same search
  std::optional<thor::search::Candidate> best_;  // the current position of the climber
};

/// Adds "hill-climb" to thor's strategy registry.
void register_hill_climb();
