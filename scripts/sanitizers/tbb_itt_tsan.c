/* oneTBB's synchronisation, told to ThreadSanitizer (scripts/sanitize tsan).
 *
 * Debian's libtbb is not built with -fsanitize=thread, so TSan cannot see how
 * a task gets from the thread that spawns it to the thread that runs it, nor
 * how its results get back to the thread that waits: every value a task reads
 * or writes would be reported as a race. oneTBB reports those points to
 * Intel's tools through its ITT hooks; this small collector, which libtbb
 * loads when INTEL_LIBITTNOTIFY64 names it (with INTEL_ITTNOTIFY_GROUPS=
 * sync,stitch), turns them into TSan happens-before edges:
 *   sync_releasing(p)   a task is spawned (p = the task) or finishes (p = its
 *                       wait context, or its parent in a parallel_for tree);
 *   sync_acquired(p)    a task starts (p = the task), or a wait returns
 *                       (p = the wait context);
 *   stack_callee_enter/leave(c)  a thread starts/ends a task of the task
 *                       group context c;
 *   stack_caller_destroy(c)      the context c ends: all its tasks are done.
 * When a task throws, the waiting thread rethrows without the "wait returns"
 * notification, so every release made inside a task of c is also made on c,
 * and the thread that destroys c acquires it.
 * The task-level notifications come from TBB's headers only when the code is
 * compiled with TBB_USE_PROFILING_TOOLS=2, which scripts/sanitize passes.
 * Nothing here knows about thor. Built by scripts/sanitize, not by CMake. */
#include <stdlib.h>

void __tsan_acquire(void* addr); /* from libtsan, already loaded in the process */
void __tsan_release(void* addr);

enum { kMaxDepth = 64 };
/* The contexts whose tasks this thread is running, innermost last. */
static __thread void* running[kMaxDepth];
static __thread int depth;

/* Its presence makes libtbb look the functions below up by name (ITT API v1). */
const char* __itt_api_version(void) { return "thor tbb->tsan bridge"; }

void __itt_sync_acquired(void* addr) { __tsan_acquire(addr); }

void __itt_sync_releasing(void* addr) {
  __tsan_release(addr);
  if (depth > 0 && depth <= kMaxDepth && running[depth - 1]) __tsan_release(running[depth - 1]);
}

/* A context's handle: one byte of heap, so that TSan has an address to sync on. */
void* __itt_stack_caller_create(void) { return malloc(1); }

void __itt_stack_caller_destroy(void* caller) {
  __tsan_acquire(caller);
  free(caller);
}

void __itt_stack_callee_enter(void* caller) {
  if (depth < kMaxDepth) running[depth] = caller;
  ++depth;
}

/* A task that throws skips its leave; the stack then keeps a stale entry below
 * the live ones, which only adds releases on a dead address (no false race). */
void __itt_stack_callee_leave(void* caller) {
  (void)caller;
  if (depth > 0) --depth;
}
