#include "hill_climb.hpp"

#include <memory>

using namespace thor::search;

HillClimb::HillClimb(const StrategyContext& context)
    : context_(context), rng_(context.options.seed) {}

std::vector<Genome> HillClimb::propose(size_t n) {
  std::vector<Genome> out;
  for (size_t i = 0; i < n; ++i) {
    // Ask the oracle up front so that no proposal is wasted: an infeasible
    // point would come back through observe() untrained anyway.
    std::optional<Genome> g = best_ ? mutate_feasible(*context_.oracle, best_->genome, rng_)
                                    : random_feasible(*context_.oracle, rng_);
    if (!g) break;  // returning fewer (or none) is allowed; none ends the search
    out.push_back(*g);
  }
  return out;
}

void HillClimb::observe(const std::vector<Candidate>& results) {
  for (const Candidate& c : results) {
    if (!c.scored()) continue;  // infeasible: never trained, accuracy -1
    if (!best_ || c.accuracy > best_->accuracy) best_ = c;
  }
}

void register_hill_climb() {
  register_strategy("hill-climb",
                    [](const StrategyContext& c) { return std::make_unique<HillClimb>(c); });
}
