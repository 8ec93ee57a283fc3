#include "thor/pruner/selection.hpp"

#include <algorithm>
#include <random>
#include <set>
#include <stdexcept>

namespace thor::pruner {

Selection select_candidates(const std::vector<double>& figures, double budget, double band,
                            int64_t count, uint64_t seed) {
  Selection s;
  const double lo = (1.0 - band) * budget;
  std::vector<size_t> in_band, feasible;
  for (size_t i = 0; i < figures.size(); ++i) {
    if (figures[i] > budget) continue;
    feasible.push_back(i);
    if (figures[i] >= lo) in_band.push_back(i);
  }
  s.feasible = static_cast<int64_t>(feasible.size());
  s.in_band = static_cast<int64_t>(in_band.size());
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  std::shuffle(in_band.begin(), in_band.end(), rng);
  const auto want = static_cast<size_t>(std::max<int64_t>(0, count));
  s.chosen.assign(in_band.begin(), in_band.begin() + std::min(in_band.size(), want));
  if (s.chosen.size() < want) {
    // Not enough in the band: the feasible ones closest to the budget.
    const std::set<size_t> taken(s.chosen.begin(), s.chosen.end());
    std::vector<size_t> rest;
    for (size_t i : feasible)
      if (!taken.count(i)) rest.push_back(i);
    std::sort(rest.begin(), rest.end(),
              [&](size_t a, size_t b) { return figures[a] > figures[b]; });
    for (size_t i : rest) {
      if (s.chosen.size() >= want) break;
      s.chosen.push_back(i);
    }
  }
  if (s.chosen.empty() && !figures.empty()) {
    s.none_feasible = true;
    s.chosen.push_back(
        static_cast<size_t>(std::min_element(figures.begin(), figures.end()) - figures.begin()));
  }
  return s;
}

bool accepts(double q, double band, double margin) {
  return q >= 1.0 - band + margin && q <= 1.0 - margin;
}

Pick pick_verified(const std::vector<double>& q, double band, double margin) {
  if (q.empty()) throw std::invalid_argument("pick_verified: no verified candidate");
  const auto first = [&](auto pred) -> long {
    for (size_t j = 0; j < q.size(); ++j)
      if (pred(q[j])) return static_cast<long>(j);
    return -1;
  };
  long pick = first([&](double v) { return accepts(v, band, margin); });
  if (pick >= 0) return {static_cast<size_t>(pick), true};
  pick = first([&](double v) { return v >= 1.0 - band && v <= 1.0; });
  if (pick < 0) pick = first([&](double v) { return v <= 1.0; });
  if (pick < 0) pick = std::min_element(q.begin(), q.end()) - q.begin();
  return {static_cast<size_t>(pick), false};
}

}  // namespace thor::pruner
