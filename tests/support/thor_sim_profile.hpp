#pragma once
// Guided profiling on the synthetic device for estimator tests: its energy
// does not depend on time, so one iteration and one repeat a point suffice.
#include "thor/profiler.hpp"

namespace thor::test {

inline ProfilerOptions sim_profiler_options(int max_points) {
  ProfilerOptions o;
  o.measure.iterations = 1;
  o.measure.warmup = 0;
  o.measure.repeats = 1;
  o.progress = false;
  o.max_points = max_points;
  o.std_fraction = 0.01;
  return o;
}

}  // namespace thor::test
