#pragma once
// The one place search code touches oneTBB: a parallel loop over [0, n)
// inside an arena of `threads` (0: all cores), so concurrency is capped per
// call and never by a process-wide setting.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

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

}  // namespace thor::search::detail
