// thor::Cluster on the MPI C API (Open MPI from Debian), or one rank when
// thor is built without MPI (THOR_HAVE_MPI undefined).
#include "thor/cluster.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
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
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    std::atexit(finalize_at_exit);
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
  MPI_Comm_size(node, &node_size_);
  MPI_Comm_free(&node);
#endif
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

std::vector<int> assign_ranks(size_t count, int ranks, const std::vector<double>& cost) {
  std::vector<int> owner(count);
  std::vector<double> load(static_cast<size_t>(std::max(1, ranks)), 0.0);
  for (size_t i = 0; i < count; ++i) {
    if (cost.size() != count) {
      owner[i] = static_cast<int>(i % load.size());
      continue;
    }
    // Least loaded rank; ties to the lowest rank, so every rank agrees.
    const auto r = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    owner[i] = static_cast<int>(r);
    load[r] += std::max(0.0, cost[i]);
  }
  return owner;
}

std::vector<std::string> distribute(size_t count, int threads,
                                    const std::function<std::string(size_t)>& work,
                                    const std::vector<double>& cost) {
  const Cluster& c = Cluster::world();
  const std::vector<int> owner = assign_ranks(count, c.size(), cost);
  std::vector<size_t> mine;
  for (size_t i = 0; i < count; ++i)
    if (owner[i] == c.rank()) mine.push_back(i);
  std::vector<std::string> local(mine.size());
  parallel_queue(threads, mine.size(), [&](size_t k) { local[k] = work(mine[k]); });
  if (!c.distributed()) return local;
  // Exchange: each rank's results as length-prefixed strings, in its order.
  std::string packed;
  for (const auto& s : local) {
    const uint64_t n = s.size();
    packed.append(reinterpret_cast<const char*>(&n), sizeof n).append(s);
  }
  const std::vector<std::string> all = c.all_gather(packed);
  std::vector<std::string> out(count);
  std::vector<size_t> pos(all.size(), 0);
  for (size_t i = 0; i < count; ++i) {
    const std::string& from = all[static_cast<size_t>(owner[i])];
    size_t& p = pos[static_cast<size_t>(owner[i])];
    uint64_t n = 0;
    from.copy(reinterpret_cast<char*>(&n), sizeof n, p);
    p += sizeof n;
    out[i] = from.substr(p, n);
    p += n;
  }
  return out;
}

}  // namespace thor
