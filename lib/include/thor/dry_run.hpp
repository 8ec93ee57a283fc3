#pragma once
/// \file
/// What a job will do and what it will cost, said before it starts:
/// `prune --dry-run` and `search --dry-run` check everything (recipe, data,
/// model, meter, space, profile cache), time a few training iterations of
/// the job's own networks with its own meter, and add up the job's steps
/// from those paces. Nothing is written.
#include <string>
#include <vector>

namespace thor {

/// One step of the job with its expected wall time, as a range when the
/// job decides as it goes (profiling stops early, verification stops at
/// the first candidate in the band).
struct DryRunStep {
  std::string what;
  double low_s = 0.0;
  double high_s = 0.0;
};

struct DryRunPlan {
  std::string program;                ///< "prune", "search"
  std::vector<std::string> checks;    ///< what was checked ("recipe …: valid")
  std::vector<std::string> notes;     ///< decisions ("profile: reusing …")
  std::vector<std::string> warnings;  ///< what may make the forecast wrong (a busy machine)
  std::vector<DryRunStep> steps;
  /// Average power of the job's training as its meter saw it (W), and
  /// whether that figure is measured or modelled.
  double watts = 0.0;
  std::string energy_kind;

  double low_s() const;
  double high_s() const;
  /// The expected wall time: the middle of the range.
  double expected_s() const { return 0.5 * (low_s() + high_s()); }
  /// The energy the job itself will spend (watts × expected time), J.
  double expected_joules() const { return watts * expected_s(); }
  /// Adds a warning when other processes kept more than `busy_cores` cores
  /// busy while the paces were taken (measurement windows will be retaken).
  void warn_if_busy(double foreign_load, double busy_cores, int retries);
  /// The text the programs print.
  std::string report() const;
};

}  // namespace thor
