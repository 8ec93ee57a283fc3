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
#include "thor/train.hpp"

namespace thor {

struct MeasureOptions {
  int64_t iterations = 20;  ///< measured training iterations per repeat (at least)
  /// A window lasts at least this long: short variants get more iterations
  /// (from the warm-up's pace), so that a window is never a few milliseconds.
  double min_window_seconds = 0.25;
  int64_t warmup =
      10;  ///< iterations run before each window opens (into a representative training state)
  /// ... and the warm-up lasts at least this long: a fresh network's first
  /// ~100-200 steps cost more than the rest of its run (docs/measurement.md).
  double min_warmup_seconds = 0.15;
  int repeats = 3;             ///< fresh model instances measured
  int threads = 1;             ///< LibTorch intra-op threads, pinned for the measurement
  bool flush_denormal = true;  ///< flush denormal floats to zero (FTZ/DAZ)
  double outlier_k = 3.0;      ///< reject repeats further than k·MAD from the median
  uint64_t seed = 1;           ///< seed of the first instance; repeat r uses seed + r
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
  double foreign_load =
      0.0;           ///< mean cores used by other processes during kept windows (-1: unknown)
  int retried = 0;   ///< windows taken again because the machine was busy
  std::string feed;  ///< what the step was fed: the data set's name or kStandIn
  /// Variance of the median joules per iteration (from the repeats' spread:
  /// (1.2533·std)^2 / n, the asymptotic variance of a median).
  double median_variance() const;
};

/// A metered real training run (Model::train on the data, with the recipe's
/// optimizer), split into windows at each curve point so that early and late
/// energy per iteration can be compared.
struct RunMeasurement {
  double joules = 0.0;  ///< whole run, evaluation included
  double seconds = 0.0;
  int64_t iterations = 0;
  double joules_per_iteration = 0.0;                ///< joules / iterations
  std::vector<double> window_joules_per_iteration;  ///< per window, in order
  double early = 0.0;            ///< mean J/iter of the first fifth of the windows
  double late = 0.0;             ///< mean J/iter of the last fifth
  double final_accuracy = -1.0;  ///< on the eval set, when one was given
  EnergyKind kind = EnergyKind::measured;
  std::string meter;
  std::string feed;
};

/// Settings of a metered real run.
struct RunOptions {
  int64_t iterations = 5000;  ///< optimizer steps of the run
  int windows = 10;           ///< meter windows (curve points) over the run
  uint64_t seed = 1;          ///< weights and shuffling
  int threads = 1;            ///< LibTorch intra-op threads, as in the protocol
  bool flush_denormal = true;
  std::string device = "cpu";
  void validate() const;
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

/// Trains `arch` under the protocol, fed by `feed` (the recipe's data and
/// optimizer; a stand-in where none fits, named in Measurement::feed), and
/// meters it. Restores the caller's thread count afterwards.
Measurement measure_training(const Architecture& arch, EnergyMeter& meter,
                             const MeasureOptions& options, const TrainFeed& feed = {});

/// The protocol for several architectures at once, in rounds: round r
/// measures each architecture once (a fresh instance seeded seed + r), so
/// that a slow change of machine load hits all of them alike and their
/// ratios stay meaningful. Per architecture: as measure_training over its
/// repeats (median of the rounds the k·MAD rule keeps).
std::vector<Measurement> measure_interleaved(const std::vector<Architecture>& archs,
                                             EnergyMeter& meter, const MeasureOptions& options,
                                             const TrainFeed& feed = {});

/// Meters a real training run: Model::train on `data` with `train`'s
/// optimizer for `run.iterations` steps, evaluating on `eval` (when given)
/// at every window boundary as a user's run with curve points would.
RunMeasurement measure_real_run(const Architecture& arch, const Dataset& data,
                                const TrainOptions& train, EnergyMeter& meter,
                                const RunOptions& run, const Dataset* eval = nullptr);

/// The reference workload: a fixed small CNN measured under `options` on the
/// stand-in. Profiles record it; re-measuring it later tells how far the
/// host's speed has drifted since (Estimator::drift()).
Architecture reference_architecture();

/// Seconds per training iteration of any network on this machine, as an
/// affine function of its training FLOPs (a fixed per-iteration overhead
/// plus time per FLOP), from two quick measurements; with the meter's
/// average power over them. What dry runs forecast a job's time with.
struct PaceModel {
  double overhead_s = 0.0;        ///< per iteration, whatever the network
  double seconds_per_flop = 0.0;  ///< per training FLOP
  double watts = 0.0;             ///< average power while training
  EnergyKind kind = EnergyKind::modelled;
  /// Cores other processes kept busy while the paces were taken (-1:
  /// unknown). Above MeasureOptions::busy_cores, the protocol retakes each
  /// window up to busy_retries times, and measure_seconds() says so.
  double foreign_load = -1.0;
  double seconds_per_iteration(const Architecture& arch) const;
  /// Wall time of measure_training(arch) under `options` (warm-ups,
  /// windows, every repeat, and the retakes a busy machine causes).
  double measure_seconds(const Architecture& arch, const MeasureOptions& options) const;
};
/// Times a few iterations of `typical` and of the small reference network.
PaceModel measure_pace(const Architecture& typical, EnergyMeter& meter, const TrainFeed& feed,
                       int threads);
Measurement measure_reference(EnergyMeter& meter, const MeasureOptions& options);

/// Registers the `sim` meter (a deterministic synthetic device whose
/// per-layer energy depends on channels; for algorithm tests only).
void register_sim_meter();
/// The synthetic joules per iteration `sim` reports for `arch`.
double sim_joules_per_iteration(const Architecture& arch);

}  // namespace thor
