#pragma once
/// \file
/// The one place thor touches oneTBB, and the guard for LibTorch's thread
/// count. Concurrency is capped per call with a task_arena, never with a
/// process-wide setting, so a library caller's own TBB use is unaffected.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <algorithm>
#include <atomic>
#include <cstddef>

#include "thor/train.hpp"

namespace thor {

/// Calls f(i) for every i in [0, count) on at most `concurrency` threads
/// (0: all cores), `grain` indices per task (1: one per task, so that long
/// items such as fine-tunes balance). Runs inline when one thread suffices.
template <class F>
void parallel_for_index(int concurrency, size_t count, F&& f, size_t grain = 1) {
  if (count == 0) return;
  if (concurrency == 1 || count == 1) {
    for (size_t i = 0; i < count; ++i) f(i);
    return;
  }
  tbb::task_arena arena(concurrency <= 0 ? tbb::task_arena::automatic : concurrency);
  arena.execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<size_t>(0, count, std::max<size_t>(1, grain)),
        [&](const tbb::blocked_range<size_t>& r) {
          for (size_t i = r.begin(); i != r.end(); ++i) f(i);
        },
        tbb::simple_partitioner());
  });
}

/// Calls f(i) for every i in [0, count), started in index order: each of
/// `concurrency` workers (0: all cores) takes the next index when it finishes
/// one (greedy list scheduling). Given items sorted longest first, this keeps
/// every core busy to the end.
template <class F>
void parallel_queue(int concurrency, size_t count, F&& f) {
  if (count == 0) return;
  tbb::task_arena arena(concurrency > 0 ? concurrency : tbb::task_arena::automatic);
  std::atomic<size_t> next{0};
  const auto workers = std::min<size_t>(count, static_cast<size_t>(arena.max_concurrency()));
  arena.execute([&] {
    tbb::task_group group;
    for (size_t w = 0; w < workers; ++w)
      group.run([&] {
        for (size_t i = next++; i < count; i = next++) f(i);
      });
    group.wait();
  });
}

/// Sets LibTorch's intra-op thread count for a scope and restores the
/// caller's on exit, exceptions included. threads <= 0 leaves it unchanged.
class TorchThreadsGuard {
 public:
  explicit TorchThreadsGuard(int threads) : saved_(torch_threads()) {
    if (threads > 0) set_torch_threads(threads);
  }
  ~TorchThreadsGuard() { set_torch_threads(saved_); }
  TorchThreadsGuard(const TorchThreadsGuard&) = delete;
  TorchThreadsGuard& operator=(const TorchThreadsGuard&) = delete;

 private:
  int saved_;
};

}  // namespace thor
