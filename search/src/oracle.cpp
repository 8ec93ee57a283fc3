#include "thor/search/oracle.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "thor/parallel.hpp"

namespace thor::search {

namespace {
constexpr size_t kMaxChannels = 16;  // conv_blocks ≤ 8 plus linear_layers ≤ 4 (space.validate)
}

Oracle::Oracle(const Estimator& estimator, const SearchSpace& space, OracleOptions options,
               const std::string& cost)
    : space_(space), rule_(options), cost_(make_cost_oracle(cost, estimator)) {
  space_.validate();
  for (const Genome& g : space_.skeletons()) plans_.push_back(cost_->plan(space_.build(g)));
}

size_t Oracle::fill_channels(const Genome& g, int64_t* out) const {
  size_t k = 0;
  for (int64_t c : g.conv) out[k++] = c;
  for (int64_t w : g.linear) out[k++] = w;
  return k;
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
    // Every point: for each structure, count through its channel choices like an odometer.
    s.exhaustive = true;
    for (const Genome& skel : space_.skeletons()) {
      Genome g = skel;
      const size_t nc = g.conv.size(), nl = g.linear.size();
      std::vector<size_t> digit(nc + nl, 0);
      for (;;) {
        for (size_t i = 0; i < nc; ++i) g.conv[i] = space_.channels[digit[i]];
        for (size_t i = 0; i < nl; ++i) g.linear[i] = space_.linear_widths[digit[nc + i]];
        points.push_back(g);
        size_t d = 0;
        for (; d < digit.size(); ++d) {
          const size_t base = d < nc ? space_.channels.size() : space_.linear_widths.size();
          if (++digit[d] < base) break;
          digit[d] = 0;
        }
        if (d == digit.size()) break;
      }
    }
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
