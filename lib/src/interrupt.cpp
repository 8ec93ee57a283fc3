#include "thor/interrupt.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>

namespace thor {

namespace {

std::atomic<int> received{0};

extern "C" void on_signal(int sig) {
  if (received.exchange(sig) != 0) {
    // The second signal: the user wants out now (async-signal-safe only).
    const char msg[] = "\ninterrupted twice: exiting now\n";
    (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
    ::_exit(128 + sig);
  }
}

}  // namespace

Interrupted::Interrupted(int signal)
    : std::runtime_error(std::string("interrupted by ") +
                         (signal == SIGINT    ? "Ctrl-C (SIGINT)"
                          : signal == SIGTERM ? "SIGTERM"
                          : signal == SIGHUP  ? "SIGHUP"
                                              : "signal " + std::to_string(signal))),
      signal_(signal) {}

void install_interrupt_handlers() {
  static std::atomic<bool> installed{false};
  if (installed.exchange(true)) return;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

int interrupt_signal() { return received.load(std::memory_order_relaxed); }

void throw_if_interrupted() {
  const int sig = received.load(std::memory_order_relaxed);
  if (sig != 0) throw Interrupted(sig);
}

void reset_interrupt() { received.store(0); }

}  // namespace thor
