#pragma once
/// \file
/// The ranks of a job started with `mpirun`/`srun`, or a single process.
///
/// thor's jobs run the same program on every rank (SPMD) and keep every
/// rank's state identical: decisions (which candidates to train, which one
/// wins) depend only on the seed and on results that are shared with every
/// rank, so any number of ranks makes the same decisions. Rank 0 alone
/// profiles, meters and writes outputs; while it meters, the other ranks
/// wait without spinning a core, so a metered window has its node to itself
/// (docs/cluster.md). Built without MPI, or started without mpirun, a
/// program is one rank and behaves exactly as a single process.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace thor {

class Cluster {
 public:
  /// The process's cluster. MPI is initialised on first use when thor was
  /// built with MPI and the process was started by an MPI launcher; it is
  /// finalised at exit.
  static Cluster& world();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }
  bool distributed() const { return size_ > 1; }
  /// This rank's host name, and how many ranks share its node.
  const std::string& host() const { return host_; }
  int node_size() const { return node_size_; }
  /// Nodes the job spans (ranks grouped by shared memory).
  int nodes() const { return nodes_; }
  /// "3 ranks on 1 node; rank 0 profiles, meters and writes" (for logs).
  std::string describe() const;
  /// Whether thor was built with MPI at all.
  static bool built_with_mpi();

  /// Returns when every rank has arrived; waits by sleeping, not spinning.
  void barrier() const;
  /// Rank 0's `text` on every rank (the others' argument is ignored).
  std::string broadcast(const std::string& text) const;
  /// Every rank's `text`, in rank order, on every rank.
  std::vector<std::string> all_gather(const std::string& text) const;
  /// Ends every rank of the job with exit code `code`.
  [[noreturn]] void abort(int code) const;

  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

 private:
  Cluster();
  int rank_ = 0, size_ = 1, node_size_ = 1, nodes_ = 1;
  std::string host_;
};

/// Runs work(i) for every i in [0, count) across the ranks and returns every
/// result, in index order, on every rank. Every rank must call it with the
/// same count. Indices are handed out in order to whichever of the job's
/// workers (`threads` oneTBB workers per rank, 0: all cores) is free next —
/// put the longest first — so results must depend only on the index (a
/// candidate's own seed), never on which rank computed them. With one rank
/// it is a local parallel loop.
std::vector<std::string> distribute(size_t count, int threads,
                                    const std::function<std::string(size_t)>& work);

}  // namespace thor
