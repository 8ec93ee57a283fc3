// thor::Cluster on the MPI C API (Open MPI from Debian), or one rank when
// thor is built without MPI (THOR_HAVE_MPI undefined).
#include "thor/cluster.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "thor/parallel.hpp"

#ifdef THOR_HAVE_MPI
#include <mpi.h>
#endif

namespace thor {

namespace {

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

#ifdef THOR_HAVE_MPI
// Started by an MPI launcher (mpirun, srun, hydra)? A plain run stays a
// single process and never initialises MPI.
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

// Completes a non-blocking request by polling with short sleeps, so that a
// rank waiting for rank 0 (which may be metering) leaves its core idle.
void wait_quietly(MPI_Request& request) {
  int done = 0;
  auto pause = std::chrono::microseconds(50);
  for (MPI_Test(&request, &done, MPI_STATUS_IGNORE); !done;
       MPI_Test(&request, &done, MPI_STATUS_IGNORE)) {
    std::this_thread::sleep_for(pause);
    if (pause < std::chrono::milliseconds(2)) pause *= 2;
  }
}
#endif

}  // namespace

Cluster::Cluster() : host_(hostname()) {
#ifdef THOR_HAVE_MPI
  if (!launched_by_mpi()) return;
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    // SERIALIZED: distribute()'s workers take indices from any thread, one
    // at a time (a mutex); everything else runs on the main thread.
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    std::atexit(finalize_at_exit);
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
  MPI_Comm_size(node, &node_size_);
  int node_rank = 0;
  MPI_Comm_rank(node, &node_rank);
  const int leader = node_rank == 0 ? 1 : 0;  // one per node: count the nodes
  MPI_Allreduce(&leader, &nodes_, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Comm_free(&node);
#endif
}

std::string Cluster::describe() const {
  return std::to_string(size_) + " ranks on " + std::to_string(nodes_) +
         (nodes_ == 1 ? " node" : " nodes") + "; rank 0 profiles, meters and writes";
}

Cluster& Cluster::world() {
  static Cluster cluster;
  return cluster;
}

bool Cluster::built_with_mpi() {
#ifdef THOR_HAVE_MPI
  return true;
#else
  return false;
#endif
}

void Cluster::barrier() const {
#ifdef THOR_HAVE_MPI
  if (!distributed()) return;
  MPI_Request r;
  MPI_Ibarrier(MPI_COMM_WORLD, &r);
  wait_quietly(r);
#endif
}

std::string Cluster::broadcast(const std::string& text) const {
#ifdef THOR_HAVE_MPI
  if (!distributed()) return text;
  barrier();  // rank 0 may still be busy (profiling, metering): wait idle
  uint64_t n = root() ? text.size() : 0;
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  std::string out = root() ? text : std::string(n, '\0');
  if (n > 0) MPI_Bcast(out.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
  return out;
#else
  return text;
#endif
}

std::vector<std::string> Cluster::all_gather(const std::string& text) const {
#ifdef THOR_HAVE_MPI
  if (!distributed()) return {text};
  barrier();
  const int mine = static_cast<int>(text.size());
  std::vector<int> sizes(static_cast<size_t>(size_)), offsets(static_cast<size_t>(size_));
  MPI_Allgather(&mine, 1, MPI_INT, sizes.data(), 1, MPI_INT, MPI_COMM_WORLD);
  int total = 0;
  for (int r = 0; r < size_; ++r) {
    offsets[static_cast<size_t>(r)] = total;
    total += sizes[static_cast<size_t>(r)];
  }
  std::string all(static_cast<size_t>(total), '\0');
  MPI_Allgatherv(text.data(), mine, MPI_CHAR, all.data(), sizes.data(), offsets.data(), MPI_CHAR,
                 MPI_COMM_WORLD);
  std::vector<std::string> out;
  for (int r = 0; r < size_; ++r)
    out.push_back(all.substr(static_cast<size_t>(offsets[static_cast<size_t>(r)]),
                             static_cast<size_t>(sizes[static_cast<size_t>(r)])));
  return out;
#else
  return {text};
#endif
}

void Cluster::abort(int code) const {
#ifdef THOR_HAVE_MPI
  if (distributed()) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

#ifdef THOR_HAVE_MPI
namespace {

// A job-wide "next index" counter in rank 0's memory, read and advanced with
// one atomic MPI_Fetch_and_op by whichever worker of whichever rank is free:
// dynamic self-scheduling with no dispatcher. Collective to make and free.
class SharedCounter {
 public:
  SharedCounter() {
    const bool root = Cluster::world().root();
    MPI_Win_allocate(root ? sizeof(int64_t) : 0, sizeof(int64_t), MPI_INFO_NULL, MPI_COMM_WORLD,
                     &base_, &win_);
    if (root) *base_ = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Win_lock_all(0, win_);
  }
  ~SharedCounter() {
    MPI_Win_unlock_all(win_);
    MPI_Win_free(&win_);
  }
  SharedCounter(const SharedCounter&) = delete;
  SharedCounter& operator=(const SharedCounter&) = delete;
  int64_t next() {
    std::lock_guard<std::mutex> lock(mutex_);  // MPI_THREAD_SERIALIZED
    const int64_t one = 1;
    int64_t got = 0;
    MPI_Fetch_and_op(&one, &got, MPI_INT64_T, 0, 0, MPI_SUM, win_);
    MPI_Win_flush(0, win_);
    return got;
  }

 private:
  MPI_Win win_ = MPI_WIN_NULL;
  int64_t* base_ = nullptr;
  std::mutex mutex_;
};

}  // namespace
#endif

std::vector<std::string> distribute(size_t count, int threads,
                                    const std::function<std::string(size_t)>& work) {
  const Cluster& c = Cluster::world();
  if (!c.distributed()) {
    std::vector<std::string> out(count);
    parallel_queue(threads, count, [&](size_t i) { out[i] = work(i); });
    return out;
  }
  std::string packed;  // this rank's results: (index, length, bytes) each
#ifdef THOR_HAVE_MPI
  c.barrier();  // rank 0 may still be metering: wait idle, then start together
  {
    SharedCounter counter;
    std::mutex packing;
    const int workers = threads > 0 ? threads : tbb::this_task_arena::max_concurrency();
    parallel_queue(workers, static_cast<size_t>(workers), [&](size_t) {
      for (int64_t i = counter.next(); i < static_cast<int64_t>(count); i = counter.next()) {
        const std::string r = work(static_cast<size_t>(i));
        const uint64_t head[2] = {static_cast<uint64_t>(i), r.size()};
        std::lock_guard<std::mutex> lock(packing);
        packed.append(reinterpret_cast<const char*>(head), sizeof head).append(r);
      }
    });
  }
#endif
  std::vector<std::string> out(count);
  for (const std::string& from : c.all_gather(packed)) {
    for (size_t p = 0; p + 2 * sizeof(uint64_t) <= from.size();) {
      uint64_t head[2];
      from.copy(reinterpret_cast<char*>(head), sizeof head, p);
      p += sizeof head;
      out[head[0]] = from.substr(p, head[1]);
      p += head[1];
    }
  }
  return out;
}

}  // namespace thor
