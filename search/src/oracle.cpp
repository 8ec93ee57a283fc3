#include "thor/search/oracle.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "thor/parallel.hpp"

namespace thor::search {

namespace {
constexpr size_t kMaxChannels = SearchSpace::kMaxWidths;  // SearchSpace::validate keeps to it
}

Oracle::Oracle(const Estimator& estimator, const SearchSpace& space, OracleOptions options,
               const std::string& cost)
    : space_(space), rule_(options), cost_(make_cost_oracle(cost, estimator)) {
  space_.validate();
  for (const Genome& g : space_.skeletons()) plans_.push_back(cost_->plan(space_.build(g)));
}

size_t Oracle::fill_channels(const Genome& g, int64_t* out) const {
  return space_.fill_widths(g, out);
}

Verdict Oracle::check(const Genome& g) const {
  int64_t ch[kMaxChannels];
  fill_channels(g, ch);
  return rule_.judge(plans_[space_.structure_index(g)]->predict(ch));
}

double Oracle::joules(const Genome& g) const {
  int64_t ch[kMaxChannels];
  fill_channels(g, ch);
  return plans_[space_.structure_index(g)]->mean(ch) * static_cast<double>(options().iterations);
}

bool Oracle::feasible(const Genome& g) const {
  if (rule_.needs_variance()) return check(g).feasible;
  return joules(g) <= options().budget_joules;
}

std::vector<uint8_t> Oracle::feasible_batch(const std::vector<Genome>& genomes, int threads) const {
  std::vector<uint8_t> out(genomes.size());
  parallel_for_index(
      threads, genomes.size(), [&](size_t i) { out[i] = feasible(genomes[i]) ? 1 : 0; }, 4096);
  return out;
}

SpaceScan Oracle::scan(uint64_t max_points, uint64_t seed, int threads) const {
  SpaceScan s;
  s.points = space_.size();
  std::vector<Genome> points;
  if (s.points <= static_cast<double>(max_points)) {
    // Every point, structure by structure, counting through the widths like an odometer.
    s.exhaustive = true;
    space_.for_each_point([&](const Genome& g) { points.push_back(g); });
  } else {
    Rng rng(seed);
    points.reserve(max_points);
    for (uint64_t i = 0; i < max_points; ++i) points.push_back(space_.sample(rng));
  }
  std::vector<double> joules(points.size());
  parallel_for_index(
      threads, points.size(), [&](size_t i) { joules[i] = this->joules(points[i]); }, 4096);
  const auto feas = feasible_batch(points, threads);
  s.examined = points.size();
  size_t lo = 0, hi = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    s.feasible += feas[i];
    if (joules[i] < joules[lo]) lo = i;
    if (joules[i] > joules[hi]) hi = i;
  }
  if (!points.empty()) {
    s.cheapest = points[lo];
    s.cheapest_joules = joules[lo];
    s.costliest = points[hi];
    s.costliest_joules = joules[hi];
  }
  return s;
}

std::optional<Genome> random_feasible(const Oracle& oracle, Rng& rng, int tries) {
  for (int t = 0; t < tries; ++t) {
    Genome g = oracle.space().sample(rng);
    if (oracle.feasible(g)) return g;
  }
  return std::nullopt;
}

std::optional<Genome> mutate_feasible(const Oracle& oracle, const Genome& parent, Rng& rng,
                                      int tries) {
  for (int t = 0; t < tries; ++t) {
    Genome g = oracle.space().mutate(parent, rng);
    if (t % 2 == 1) g = oracle.space().mutate(g, rng);
    if (g != parent && oracle.feasible(g)) return g;
  }
  return std::nullopt;
}

}  // namespace thor::search
