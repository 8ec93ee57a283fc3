#pragma once
// A tiny search space on 8x8 images, profiled once with the sim meter, and
// a fake evaluator, shared by the search suites.
#include <cmath>

#include "thor/profiler.hpp"
#include "thor/search/search.hpp"
#include "thor_test_support.hpp"

namespace thor::search::testing {

inline SearchSpace tiny_space() {
  SearchSpace s;
  s.input = {1, 8, 8};
  s.classes = 2;
  s.batch_sizes = {8};
  s.conv_blocks = {1, 2};
  s.channels = {2, 4, 6, 8};
  s.kernels = {3};
  s.pooling = {"max"};
  s.linear_layers = {0, 1};
  s.linear_widths = {4, 8, 16};
  return s;
}

// Profiled once per test binary: the sim meter's energy does not depend on time.
inline const Estimator& tiny_estimator() {
  static const Estimator est = [] {
    register_sim_meter();
    const SearchSpace s = tiny_space();
    std::vector<Architecture> archs;
    for (const auto& g : s.skeletons()) archs.push_back(s.build(g));
    ProfilerOptions o;
    o.measure.iterations = 1;
    o.measure.warmup = 0;
    o.measure.repeats = 1;
    o.progress = false;
    o.max_points = 6;
    MeterOptions mo;
    auto meter = make_meter("sim", mo);
    return Estimator(run_profiler(archs, *meter, mo, o).profile);
  }();
  return est;
}

// A budget that cuts the tiny space roughly in half, for `iterations`.
inline double median_budget(const Oracle& probe) {
  const SpaceScan scan = probe.scan(1'000'000, 1, 1);
  return 0.5 * (scan.cheapest_joules + scan.costliest_joules);
}

inline OracleOptions half_budget(int64_t iterations = 100) {
  OracleOptions o;
  o.iterations = iterations;
  o.budget_joules = 1e30;
  const Oracle probe(tiny_estimator(), tiny_space(), o);
  o.budget_joules = median_budget(probe);
  return o;
}

// Accuracy that grows with parameters (saturating) plus seed noise: cheap and deterministic.
inline double fake_accuracy(const Architecture& a, uint64_t seed) {
  const double p = static_cast<double>(a.params());
  const double noise = static_cast<double>(seed % 1000) / 1000.0 * 0.01;
  return 0.5 + 0.45 * (1.0 - std::exp(-p / 400.0)) + noise;
}

}  // namespace thor::search::testing
