#pragma once
/// \file
/// Ctrl-C and `kill` (SIGINT, SIGTERM, SIGHUP) end a long job cleanly: the
/// handler only sets a flag; training loops and measurement windows check it
/// at their next step and throw Interrupted, which unwinds through the
/// staging folders (nothing half-written is left) to the program's one
/// message and exit code 130. A second signal ends the process at once.
/// What a job had finished stays in its resume state or journal, so the
/// same command resumes it.
#include <stdexcept>
#include <string>

namespace thor {

/// Thrown at the first check after a signal.
class Interrupted : public std::runtime_error {
 public:
  explicit Interrupted(int signal);
  int signal() const { return signal_; }

 private:
  int signal_;
};

/// Installs the handlers (idempotent). Programs call it through cli::run.
void install_interrupt_handlers();
/// The signal received since install (0: none).
int interrupt_signal();
/// Throws Interrupted when a signal arrived. Cheap: one atomic load.
void throw_if_interrupted();
/// For tests: forget a received signal.
void reset_interrupt();

}  // namespace thor
