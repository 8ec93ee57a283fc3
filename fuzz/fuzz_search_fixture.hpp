#pragma once
// The search whose checkpoint fuzz_checkpoint reads and fuzz_seeds writes:
// a tiny space, the FLOPs cost oracle over a hand-made profile (no
// profiling), and an evaluator that trains nothing.
#include <cmath>
#include <memory>
#include <string>

#include "thor/estimator.hpp"
#include "thor/search/search.hpp"

namespace thor::fuzz {

inline search::SearchSpace checkpoint_space() {
  search::SearchSpace s;
  s.input = {1, 8, 8};
  s.classes = 2;
  s.batch_sizes = {8};
  s.conv_blocks = {1, 2};
  s.channels = {2, 4, 6, 8};
  s.kernels = {3};
  s.linear_layers = {0, 1};
  s.linear_widths = {4, 8};
  return s;
}

/// The estimator and oracle of the search, made once.
struct CheckpointSearch {
  Estimator estimator;
  search::Oracle oracle;
  search::SearchOptions options;

  static DeviceProfile flops_profile() {
    DeviceProfile p;
    p.flops.a = 1e-9;
    p.flops.b = 0.01;
    p.flops.fitted = true;
    return p;
  }
  static search::OracleOptions budget() {
    search::OracleOptions o;
    o.budget_joules = 1e30;
    o.iterations = 100;
    return o;
  }

  explicit CheckpointSearch(const std::string& checkpoint)
      : estimator(flops_profile()), oracle(estimator, checkpoint_space(), budget(), "flops") {
    options.strategy = "regularized-evolution";
    options.strategy_options.population = 4;
    options.strategy_options.sample = 2;
    options.candidates = 6;
    options.batch = 3;
    options.threads = 1;
    options.seed = 3;
    options.oracle = budget();
    options.progress = false;
    options.checkpoint = checkpoint;
  }

  /// Accuracy from the parameter count and the seed: cheap and deterministic.
  static double accuracy(const Architecture& a, uint64_t seed) {
    const double p = static_cast<double>(a.params());
    return 0.5 + 0.4 * (1.0 - std::exp(-p / 400.0)) + static_cast<double>(seed % 100) * 1e-4;
  }

  search::SearchResult run() const { return search::run_search(oracle, accuracy, options); }
};

}  // namespace thor::fuzz
