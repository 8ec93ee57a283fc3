#pragma once
/// \file
/// The measurement protocol: how thor turns "train this network" into a
/// joules-per-iteration figure that can be trusted on a noisy machine.
///
/// What we found on the 2-core development VMs (see docs/measurement.md):
/// the same small CNN ran at 5 ms/iter in one fresh process and 16 ms in the
/// next. Causes, in order of weight: (1) LibTorch's intra-op pool defaulting
/// to every core while another process (or our own TBB workers) competes for
/// them, so a run can be oversubscribed; (2) denormal floats appearing in
/// gradients of some fresh initialisations, which are 10-100x slower on x86
/// unless flushed; (3) first-iteration allocation and oneDNN kernel choice.
/// The protocol therefore pins the thread count, flushes denormals, warms
/// up, repeats over fresh model instances, and takes a median with outliers
/// rejected, reporting the coefficient of variation with every figure.
#include <string>
#include <vector>

#include "thor/architecture.hpp"
#include "thor/meter.hpp"

namespace thor {

struct MeasureOptions {
  int64_t iterations = 50;  ///< measured training iterations per repeat
  int64_t warmup = 5;       ///< iterations run before each window opens
  int repeats = 5;          ///< fresh model instances measured
  int threads = 1;          ///< LibTorch intra-op threads, pinned for the measurement
  bool flush_denormal = true;  ///< flush denormal floats to zero (FTZ/DAZ)
  double outlier_k = 3.0;   ///< reject repeats further than k·MAD from the median
  uint64_t seed = 1;        ///< seed of the first instance; repeat r uses seed + r
  /// A window during which other processes kept more than this many cores
  /// busy (from /proc/stat) is taken again, at most `busy_retries` times.
  double busy_cores = 0.5;
  int busy_retries = 2;
  /// Pin glibc malloc's mmap and trim thresholds (see pin_allocator()).
  bool pin_allocator = true;
  std::string device = "cpu";
  /// Throws InputError naming the field, its value and the rule.
  void validate() const;
};

struct Measurement {
  double joules_per_iteration = 0.0;   ///< median over kept repeats
  double seconds_per_iteration = 0.0;  ///< median over kept repeats
  double cv = 0.0;                     ///< std/mean of kept repeats' joules
  double std = 0.0;                    ///< std of kept repeats' joules per iteration
  std::vector<double> repeat_joules;   ///< per-iteration joules of every repeat
  std::vector<double> repeat_seconds;  ///< per-iteration seconds of every repeat
  int rejected = 0;                    ///< repeats dropped as outliers
  EnergyKind kind = EnergyKind::measured;
  std::string meter;
  int threads = 0;
  bool flush_denormal = true;
  int64_t iterations = 0;
  double foreign_load = 0.0;  ///< mean cores used by other processes during kept windows (-1: unknown)
  int retried = 0;            ///< windows taken again because the machine was busy
};

/// Stops glibc malloc from returning tensor buffers to the kernel between
/// iterations: raises M_MMAP_THRESHOLD to its 32 MiB maximum and
/// M_TRIM_THRESHOLD to 1 GiB (process-wide, idempotent). Without it, glibc's
/// *dynamic* mmap threshold makes some runs mmap/munmap every activation
/// buffer, page-faulting them in again each iteration: the same network then
/// ran at 9 ms/iter in one process and 15-28 ms in another (docs/measurement.md).
/// Returns false when malloc refused a setting.
bool pin_allocator();

/// CPU ticks the whole machine spent busy so far (from /proc/stat), in
/// seconds; -1 when unavailable.
double machine_busy_seconds();

/// Median of a non-empty vector.
double median(std::vector<double> v);
/// Indices kept by the k·MAD rule (all when MAD is 0).
std::vector<size_t> mad_inliers(const std::vector<double>& v, double k);

/// Trains `arch` on a fixed random batch under the protocol and meters it.
/// Restores the caller's thread count and denormal setting afterwards.
Measurement measure_training(const Architecture& arch, EnergyMeter& meter, const MeasureOptions& options);

/// Registers the `sim` meter (a deterministic synthetic device whose
/// per-layer energy depends on channels; for algorithm tests only).
void register_sim_meter();
/// The synthetic joules per iteration `sim` reports for `arch`.
double sim_joules_per_iteration(const Architecture& arch);

}  // namespace thor
