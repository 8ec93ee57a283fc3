#pragma once
// The one place search code touches oneTBB: a parallel loop over [0, n)
// inside an arena of `threads` (0: all cores), so concurrency is capped per
// call and never by a process-wide setting.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <algorithm>
#include <atomic>

#include <cstddef>

namespace thor::search::detail {

/// body(i) for every i in [0, n), `grain` indices per task.
template <class F>
void parallel_for_each(size_t n, int threads, size_t grain, F&& body) {
  tbb::task_arena arena(threads > 0 ? threads : tbb::task_arena::automatic);
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<size_t>(0, n, grain), [&](const tbb::blocked_range<size_t>& r) {
      for (size_t i = r.begin(); i != r.end(); ++i) body(i);
    }, tbb::simple_partitioner());
  });
}

/// body(i) for every i in [0, n) in that order of start: `threads` workers
/// each take the next index when they finish one (greedy list scheduling).
/// Given items sorted longest first, this keeps both cores busy to the end.
template <class F>
void parallel_queue(size_t n, int threads, F&& body) {
  if (n == 0) return;
  tbb::task_arena arena(threads > 0 ? threads : tbb::task_arena::automatic);
  std::atomic<size_t> next{0};
  const auto workers = std::min<size_t>(n, static_cast<size_t>(arena.max_concurrency()));
  arena.execute([&] {
    tbb::task_group group;
    for (size_t w = 0; w < workers; ++w)
      group.run([&] {
        for (size_t i = next++; i < n; i = next++) body(i);
      });
    group.wait();
  });
}

}  // namespace thor::search::detail
