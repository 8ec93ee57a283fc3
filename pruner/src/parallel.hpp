#pragma once
// Internal: the one place thor::pruner touches oneTBB. Concurrency is capped
// with a task_arena, never with process-wide settings.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

namespace thor::pruner::detail {

/// Calls f(i) for i in [0, count) on at most `concurrency` threads (0 = all),
/// one index per task so that long fine-tunes balance.
template <class F>
void parallel_for_index(int concurrency, size_t count, F&& f) {
  if (count == 0) return;
  tbb::task_arena arena(concurrency <= 0 ? tbb::task_arena::automatic : concurrency);
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<size_t>(0, count, 1),
                      [&](const tbb::blocked_range<size_t>& r) {
                        for (size_t i = r.begin(); i != r.end(); ++i) f(i);
                      });
  });
}

}  // namespace thor::pruner::detail
