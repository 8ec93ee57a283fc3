#include "thor/search/strategy.hpp"

#include <algorithm>

namespace thor::search {

void StrategyOptions::validate() const {
  const FieldRules f("search");
  f.count("population", population, 1, 1'000'000);
  f.require(sample >= 1 && sample <= population, "sample", std::to_string(sample),
            "expected a tournament size in [1, population = " + std::to_string(population) + "]");
  f.number("crossover", crossover, 0.0, 1.0);
}

std::unique_ptr<Strategy> make_strategy(const std::string& name, const StrategyContext& context) {
  const StrategyFactory factory = strategies().get(name);
  if (!context.space || !context.oracle)
    throw std::invalid_argument("make_strategy: context needs space and oracle");
  context.options.validate();
  return factory(context);
}

std::vector<size_t> pareto_front(const std::vector<Candidate>& candidates) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < candidates.size(); ++i)
    if (candidates[i].scored()) idx.push_back(i);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    const auto &x = candidates[a], &y = candidates[b];
    if (x.verdict.joules != y.verdict.joules) return x.verdict.joules < y.verdict.joules;
    if (x.accuracy != y.accuracy) return x.accuracy > y.accuracy;
    return x.id < y.id;
  });
  // Sweeping by rising energy, a point is on the front when it beats every cheaper one.
  std::vector<size_t> front;
  double best = -1.0;
  for (size_t i : idx)
    if (candidates[i].accuracy > best) {
      front.push_back(i);
      best = candidates[i].accuracy;
    }
  return front;
}

}  // namespace thor::search
