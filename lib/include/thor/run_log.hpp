#pragma once
/// \file
/// Run logs: every metered window and every estimate a job makes, one row
/// each, in a CSV and a JSON-lines file in the job's output folder — the
/// form energy tools such as Zeus and CodeCarbon write and notebooks read
/// (docs/run-logs.md shows pandas). Units are SI and written in the column
/// names (energy_J, duration_s, power_W).
///
/// A job opens a RunLog and installs it (ScopedRunLog); its meter is wrapped
/// by logging_meter(), so every window lands in the log without the
/// measurement code knowing; RunLogContext says what the windows of a phase
/// measure ("profiling", "baseline", "verify", "final").
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "thor/meter.hpp"

namespace thor {

/// One row.
struct RunRecord {
  /// What was measured or estimated: "profiling", "baseline", "candidate",
  /// "verify", "final", "winner", ... (the phase for meter windows).
  std::string what;
  /// The network (its one-line summary) or candidate it concerns.
  std::string subject;
  /// "measured", "modelled", "simulated" (meter windows) or "estimated".
  std::string source;
  int64_t iterations = 0;  ///< training iterations the figure covers
  double energy_J = std::numeric_limits<double>::quiet_NaN();
  double duration_s = std::numeric_limits<double>::quiet_NaN();  ///< windows only
  /// Relative spread: an estimate's std / mean, a measurement's cv.
  double spread = std::numeric_limits<double>::quiet_NaN();
};

struct RunLogOptions {
  /// Folder the two files are written to (created if missing).
  std::string folder;
  /// File stem: <folder>/<stem>.csv and <folder>/<stem>.jsonl.
  std::string stem = "run_log";
  /// Run id shared by every row; empty: "<program>-<UTC time>-<pid>".
  std::string run_id;
  std::string program = "thor";
  /// Host/device description (describe_host()), and the meter's description.
  std::string host, meter;
  /// Throws InputError naming the field when the folder or stem is empty.
  void validate() const;
};

/// The CSV's header, in order (the JSON lines use the same keys).
const std::vector<std::string>& run_log_columns();

class RunLog {
 public:
  /// Creates both files as ".partial" siblings and writes the CSV header.
  /// Throws InputError naming the file when it cannot be written.
  explicit RunLog(RunLogOptions options);
  /// Without commit(), the partial files are removed: a failed or
  /// interrupted job leaves no half-written log behind.
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  /// Appends a row to both files (thread-safe; each line flushed).
  void add(const RunRecord& record);
  const std::string& run_id() const { return options_.run_id; }
  /// The final paths (valid after commit()).
  std::string csv_path() const;
  std::string jsonl_path() const;
  int64_t rows() const;
  /// Closes both files and renames them into place.
  void commit();

 private:
  RunLogOptions options_;
  mutable std::mutex mutex_;
  std::FILE* csv_ = nullptr;
  std::FILE* jsonl_ = nullptr;
  int64_t rows_ = 0;
  bool committed_ = false;
};

/// The log rows go to now (nullptr: none).
RunLog* active_run_log();
/// Records a row in the active log, if any.
void log_run_record(const RunRecord& record);

/// Installs `log` as the active one for its lifetime (the previous one after).
class ScopedRunLog {
 public:
  explicit ScopedRunLog(RunLog* log);
  ~ScopedRunLog();
  ScopedRunLog(const ScopedRunLog&) = delete;
  ScopedRunLog& operator=(const ScopedRunLog&) = delete;

 private:
  RunLog* previous_;
};

/// What the meter windows opened during its lifetime measure (the `what`
/// column); nests, the innermost wins.
class RunLogContext {
 public:
  explicit RunLogContext(std::string what);
  ~RunLogContext();
  RunLogContext(const RunLogContext&) = delete;
  RunLogContext& operator=(const RunLogContext&) = delete;
  /// The innermost context's `what` ("window" outside any).
  static std::string current();

 private:
  std::string previous_;
};

/// Wraps a meter so that each window (start…stop) becomes a row of the
/// active run log; the subject is the workload's network, if any.
std::unique_ptr<EnergyMeter> logging_meter(std::unique_ptr<EnergyMeter> inner);

}  // namespace thor
