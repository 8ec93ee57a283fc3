#include "thor/search/strategy.hpp"

#include <algorithm>
#include <map>
#include <mutex>

namespace thor::search {

void StrategyOptions::validate() const {
  if (population < 1) throw InputError("search.population = " + std::to_string(population) + ": expected >= 1");
  if (sample < 1 || sample > population)
    throw InputError("search.sample = " + std::to_string(sample) + ": expected in [1, population = " +
                     std::to_string(population) + "]");
  if (!(crossover >= 0.0 && crossover <= 1.0))
    throw InputError("search.crossover = " + std::to_string(crossover) + ": expected a probability in [0, 1]");
}

namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, StrategyFactory> factories;
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void register_strategy(const std::string& name, StrategyFactory factory) {
  if (name.empty()) throw std::invalid_argument("register_strategy: empty name");
  std::lock_guard<std::mutex> lock(registry().mutex);
  registry().factories[name] = std::move(factory);
}

std::vector<std::string> strategy_names() {
  std::lock_guard<std::mutex> lock(registry().mutex);
  std::vector<std::string> names;
  for (const auto& [name, f] : registry().factories) names.push_back(name);
  return names;  // std::map keeps them sorted
}

std::unique_ptr<Strategy> make_strategy(const std::string& name, const StrategyContext& context) {
  StrategyFactory factory;
  {
    std::lock_guard<std::mutex> lock(registry().mutex);
    auto it = registry().factories.find(name);
    if (it != registry().factories.end()) factory = it->second;
  }
  if (!factory) {
    std::string known;
    for (const auto& n : strategy_names()) known += (known.empty() ? "" : ", ") + n;
    throw InputError("strategy '" + name + "': unknown; registered strategies: " + known);
  }
  if (!context.space || !context.oracle) throw std::invalid_argument("make_strategy: context needs space and oracle");
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
