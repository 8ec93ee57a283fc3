#pragma once
// Internal: the one place the GP touches oneTBB. Concurrency is capped with a
// task_arena, never with process-wide settings.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

namespace thor::gp::detail {

/// Calls f(i) for i in [0, count) on at most `concurrency` threads (0 = all).
template <class F>
void parallel_for_index(int concurrency, int count, F&& f) {
  if (count <= 0) return;
  if (concurrency == 1 || count == 1) {
    for (int i = 0; i < count; ++i) f(i);
    return;
  }
  tbb::task_arena arena(concurrency <= 0 ? tbb::task_arena::automatic : concurrency);
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<int>(0, count, 1), [&](const tbb::blocked_range<int>& r) {
      for (int i = r.begin(); i != r.end(); ++i) f(i);
    });
  });
}

}  // namespace thor::gp::detail
