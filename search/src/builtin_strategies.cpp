// The built-in strategies: random, regularized-evolution and nsga2. Each
// proposes only points the oracle finds feasible (drawing or mutating again
// when one is not), so training is never wasted on an infeasible network.
#include <algorithm>
#include <deque>
#include <limits>
#include <numeric>
#include <set>

#include "thor/search/strategy.hpp"

namespace thor::search {

namespace {

// Random search: uniform feasible points, none proposed twice while new ones can be found.
class RandomStrategy final : public Strategy {
 public:
  explicit RandomStrategy(const StrategyContext& c)
      : ctx_(c), rng_(c.options.seed ^ 0x52414e44ULL) {}
  std::string name() const override { return "random"; }
  std::vector<Genome> propose(size_t n) override {
    std::vector<Genome> out;
    for (size_t i = 0; i < n; ++i) {
      std::optional<Genome> g;
      for (int t = 0; t < 20; ++t) {
        g = random_feasible(*ctx_.oracle, rng_);
        if (!g || seen_.insert(*g).second) break;
      }
      if (!g) break;  // nothing feasible found: return what we have (maybe nothing)
      out.push_back(*g);
    }
    return out;
  }
  void observe(const std::vector<Candidate>&) override {}

 private:
  StrategyContext ctx_;
  Rng rng_;
  std::set<Genome> seen_;
};

// True when a is a better tournament winner than b: more accurate, then cheaper, then older.
bool better(const Candidate& a, const Candidate& b) {
  if (a.accuracy != b.accuracy) return a.accuracy > b.accuracy;
  if (a.verdict.joules != b.verdict.joules) return a.verdict.joules < b.verdict.joules;
  return a.id < b.id;
}

// Regularized (aging) evolution, Real et al. 2019 (AmoebaNet), Algorithm 1:
// a population of P models aged first-in first-out; each child is a mutation
// of the best of S members sampled at random; the oldest member dies.
// Batched: a round of n children is drawn from the same population.
class RegularizedEvolution final : public Strategy {
 public:
  explicit RegularizedEvolution(const StrategyContext& c)
      : ctx_(c), rng_(c.options.seed ^ 0x52454d4fULL) {}
  std::string name() const override { return "regularized-evolution"; }

  std::vector<Genome> propose(size_t n) override {
    const auto P = static_cast<size_t>(ctx_.options.population);
    const auto S = static_cast<size_t>(ctx_.options.sample);
    std::vector<Genome> out;
    for (size_t i = 0; i < n; ++i) {
      std::optional<Genome> g;
      if (population_.size() + out.size() < P || population_.empty()) {
        g = random_feasible(*ctx_.oracle, rng_);  // filling the initial population
      } else {
        // Tournament: S distinct members (or all when fewer), the best is the parent.
        std::vector<size_t> idx(population_.size());
        std::iota(idx.begin(), idx.end(), 0);
        const size_t s = std::min(S, idx.size());
        for (size_t k = 0; k < s; ++k)
          std::swap(idx[k], idx[std::uniform_int_distribution<size_t>(k, idx.size() - 1)(rng_)]);
        size_t best = idx[0];
        for (size_t k = 1; k < s; ++k)
          if (better(population_[idx[k]], population_[best])) best = idx[k];
        g = mutate_feasible(*ctx_.oracle, population_[best].genome, rng_);
      }
      if (!g) break;
      out.push_back(*g);
    }
    return out;
  }

  void observe(const std::vector<Candidate>& results) override {
    for (const auto& c : results) {
      if (!c.scored()) continue;
      population_.push_back(c);
      if (population_.size() > static_cast<size_t>(ctx_.options.population))
        population_.pop_front();  // aging
    }
  }

 private:
  StrategyContext ctx_;
  Rng rng_;
  std::deque<Candidate> population_;  // oldest first
};

// NSGA-II (Deb et al. 2002) on two objectives: maximise accuracy, minimise
// estimated energy. Survivors by non-dominated rank, then crowding distance;
// parents by binary tournament on the same order; children by crossover
// (probability `crossover`) and mutation.
class Nsga2 final : public Strategy {
 public:
  explicit Nsga2(const StrategyContext& c) : ctx_(c), rng_(c.options.seed ^ 0x4e534741ULL) {}
  std::string name() const override { return "nsga2"; }

  std::vector<Genome> propose(size_t n) override {
    const auto P = static_cast<size_t>(ctx_.options.population);
    std::vector<Genome> out;
    for (size_t i = 0; i < n; ++i) {
      std::optional<Genome> g;
      if (population_.size() + out.size() < P || population_.size() < 2) {
        g = random_feasible(*ctx_.oracle, rng_);
      } else {
        const Genome& a = population_[tournament()].genome;
        const Genome& b = population_[tournament()].genome;
        Genome child = a;
        if (std::uniform_real_distribution<double>(0, 1)(rng_) < ctx_.options.crossover)
          child = ctx_.space->crossover(a, b, rng_);
        g = mutate_feasible(*ctx_.oracle, child, rng_);
      }
      if (!g) break;
      out.push_back(*g);
    }
    return out;
  }

  void observe(const std::vector<Candidate>& results) override {
    for (const auto& c : results)
      if (c.scored()) population_.push_back(c);
    select(static_cast<size_t>(ctx_.options.population));
  }

 private:
  static bool dominates(const Candidate& a, const Candidate& b) {
    return a.accuracy >= b.accuracy && a.verdict.joules <= b.verdict.joules &&
           (a.accuracy > b.accuracy || a.verdict.joules < b.verdict.joules);
  }

  // Computes rank_ and crowd_ for population_, then keeps the best `keep`.
  void select(size_t keep) {
    const size_t n = population_.size();
    std::vector<int> rank(n, -1);
    std::vector<size_t> remaining(n);
    std::iota(remaining.begin(), remaining.end(), 0);
    std::vector<double> crowd(n, 0.0);
    for (int r = 0; !remaining.empty(); ++r) {
      std::vector<size_t> front, rest;
      for (size_t i : remaining) {
        bool dominated = false;
        for (size_t j : remaining)
          if (j != i && dominates(population_[j], population_[i])) {
            dominated = true;
            break;
          }
        (dominated ? rest : front).push_back(i);
      }
      for (size_t i : front) rank[i] = r;
      // Crowding distance within the front, per objective.
      for (int obj = 0; obj < 2; ++obj) {
        auto val = [&](size_t i) {
          return obj == 0 ? population_[i].accuracy : population_[i].verdict.joules;
        };
        std::sort(front.begin(), front.end(), [&](size_t a, size_t b) {
          return val(a) != val(b) ? val(a) < val(b) : population_[a].id < population_[b].id;
        });
        const double span = val(front.back()) - val(front.front());
        crowd[front.front()] = crowd[front.back()] = std::numeric_limits<double>::infinity();
        for (size_t k = 1; k + 1 < front.size(); ++k)
          if (span > 0) crowd[front[k]] += (val(front[k + 1]) - val(front[k - 1])) / span;
      }
      remaining = rest;
    }
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      if (rank[a] != rank[b]) return rank[a] < rank[b];
      if (crowd[a] != crowd[b]) return crowd[a] > crowd[b];
      return population_[a].id < population_[b].id;
    });
    if (order.size() > keep) order.resize(keep);
    std::vector<Candidate> next;
    rank_.clear();
    crowd_.clear();
    for (size_t i : order) {
      next.push_back(population_[i]);
      rank_.push_back(rank[i]);
      crowd_.push_back(crowd[i]);
    }
    population_ = std::move(next);
  }

  size_t tournament() {
    std::uniform_int_distribution<size_t> d(0, population_.size() - 1);
    const size_t a = d(rng_), b = d(rng_);
    if (rank_[a] != rank_[b]) return rank_[a] < rank_[b] ? a : b;
    return crowd_[a] >= crowd_[b] ? a : b;
  }

  StrategyContext ctx_;
  Rng rng_;
  std::vector<Candidate> population_;
  std::vector<int> rank_;
  std::vector<double> crowd_;
};

}  // namespace

Registry<StrategyFactory>& strategies() {
  static Registry<StrategyFactory> registry("strategy", [] {
    return Registry<StrategyFactory>::Entries{
        {"random", [](const StrategyContext& c) { return std::make_unique<RandomStrategy>(c); }},
        {"regularized-evolution",
         [](const StrategyContext& c) { return std::make_unique<RegularizedEvolution>(c); }},
        {"nsga2", [](const StrategyContext& c) { return std::make_unique<Nsga2>(c); }}};
  });
  return registry;
}

}  // namespace thor::search
