#pragma once
/// \file
/// The one progress reporter every program uses: a live status line per
/// phase (profiling, baseline, candidates, fine-tunes, generations) with the
/// elapsed time and an ETA, redrawn in place on a terminal and cleared at
/// the end, in the spirit of ninja's and tqdm's; plain timestamped lines at
/// a sensible rate when stderr is not a terminal (logs, CI, nohup); nothing
/// at all when quiet. Messages (`say`) are permanent lines in both modes.
///
/// Thread-safe: parallel fine-tunes advance the same phase.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace thor {

struct ProgressOptions {
  enum class Mode {
    automatic,  ///< terminal when the file descriptor is a TTY, else plain
    terminal,   ///< a status line redrawn in place ("\r\033[K")
    plain,      ///< timestamped lines, at most one per `plain_every_s` per phase
    quiet,      ///< nothing
  };
  Mode mode = Mode::automatic;
  /// Where to write (stderr by default; tests pass a pseudo-terminal).
  int fd = 2;
  /// Prefix of every line: the program ("prune", "search", "profile").
  std::string program = "thor";
  /// Plain mode: seconds between two progress lines of one phase (the
  /// phase's first and last lines are always written).
  double plain_every_s = 10.0;
  /// Terminal mode: seconds between two redraws (a phase change always redraws).
  double redraw_every_s = 0.1;
  /// Throws InputError naming the field when a value is out of range.
  void validate() const;
};

/// "3 s", "1 m 05 s", "2 h 03 m": durations as people read them.
std::string human_duration(double seconds);

/// "2026-11-26T02:41:07Z": ISO-8601 UTC with seconds.
std::string utc_timestamp();

class Progress {
 public:
  explicit Progress(ProgressOptions options = {});
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// Starts a phase of `total` steps (0: unknown, no ETA); ends the previous one.
  /// `expected_s` (> 0) is an ETA to show until the first step gives a pace.
  void phase(const std::string& name, int64_t total, double expected_s = 0.0);
  /// Sets the steps done so far and an optional detail ("kind hidden:conv…").
  void update(int64_t done, const std::string& detail = "");
  /// Adds `steps` to the steps done (parallel workers call this).
  void advance(int64_t steps = 1);
  /// Ends the current phase: the status line is cleared (terminal) or a
  /// closing line with its duration is written (plain).
  void end_phase();
  /// A permanent message line (the status line is redrawn below it).
  void say(const std::string& line);

  /// The resolved mode (automatic replaced by terminal or plain).
  ProgressOptions::Mode mode() const { return mode_; }
  const ProgressOptions& options() const { return options_; }
  /// The status text as it would be drawn now (for tests).
  std::string status_text() const;

 private:
  using Clock = std::chrono::steady_clock;
  void draw_locked(bool force);
  void clear_locked();
  void write_locked(const std::string& text) const;
  std::string status_locked() const;
  double since(Clock::time_point t) const;

  ProgressOptions options_;
  ProgressOptions::Mode mode_;
  mutable std::mutex mutex_;
  std::string phase_, detail_;
  int64_t total_ = 0, done_ = 0;
  double expected_s_ = 0.0;
  bool active_ = false, drawn_ = false;
  Clock::time_point phase_start_{}, last_draw_{};
};

/// The process's reporter (stderr, automatic mode) until configure_progress
/// replaces it; programs call configure_progress once from their flags.
Progress& progress();
void configure_progress(const ProgressOptions& options);

/// RAII phase on the process's reporter: phase() now, end_phase() on every
/// exit, exceptions included. Does nothing when `on` is false.
class ProgressPhase {
 public:
  ProgressPhase(const std::string& name, int64_t total, bool on = true, double expected_s = 0.0);
  ~ProgressPhase();
  ProgressPhase(const ProgressPhase&) = delete;
  ProgressPhase& operator=(const ProgressPhase&) = delete;
  void update(int64_t done, const std::string& detail = "");
  void advance(int64_t steps = 1);

 private:
  bool on_;
};

}  // namespace thor
