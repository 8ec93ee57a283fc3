#include "thor/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <memory>

#include "thor/error.hpp"
#include "thor/format.hpp"

namespace thor {

void ProgressOptions::validate() const {
  const FieldRules f("progress");
  f.require(fd >= 0, "fd", std::to_string(fd), "expected >= 0");
  f.number("plain_every_s", plain_every_s, 0.0, 86400.0);
  f.number("redraw_every_s", redraw_every_s, 0.0, 60.0);
}

std::string human_duration(double seconds) {
  if (!(seconds >= 0.0) || !std::isfinite(seconds)) return "?";
  const auto s = static_cast<int64_t>(std::llround(seconds));
  if (s < 60) return strf("%lld s", static_cast<long long>(s));
  if (s < 3600)
    return strf("%lld m %02lld s", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  return strf("%lld h %02lld m", static_cast<long long>(s / 3600),
              static_cast<long long>((s % 3600) / 60));
}

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

ProgressOptions::Mode resolve(const ProgressOptions& o) {
  if (o.mode != ProgressOptions::Mode::automatic) return o.mode;
  return ::isatty(o.fd) ? ProgressOptions::Mode::terminal : ProgressOptions::Mode::plain;
}

// Columns of the terminal behind fd (the line must never wrap, or "\r" would
// redraw only its last row).
size_t columns(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS")) {
    const long n = std::strtol(c, nullptr, 10);
    if (n > 10) return static_cast<size_t>(n);
  }
  return 100;
}

}  // namespace

Progress::Progress(ProgressOptions options)
    : options_(std::move(options)), mode_(resolve(options_)) {
  options_.validate();
}

Progress::~Progress() {
  std::lock_guard<std::mutex> lock(mutex_);
  clear_locked();
}

double Progress::since(Clock::time_point t) const {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void Progress::write_locked(const std::string& text) const {
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(options_.fd, text.data() + off, text.size() - off);
    if (n <= 0) return;  // progress must never fail a job
    off += static_cast<size_t>(n);
  }
}

std::string Progress::status_locked() const {
  const double elapsed = since(phase_start_);
  std::string s = options_.program + ": " + phase_;
  if (total_ > 0)
    s += strf(" %lld/%lld (%d%%)", static_cast<long long>(done_), static_cast<long long>(total_),
              static_cast<int>(100.0 * static_cast<double>(done_) / static_cast<double>(total_)));
  else if (done_ > 0)
    s += strf(" %lld", static_cast<long long>(done_));
  if (!detail_.empty()) s += " · " + detail_;
  s += " · " + human_duration(elapsed);
  double eta = -1.0;
  if (total_ > 0 && done_ > 0)
    eta = elapsed / static_cast<double>(done_) * static_cast<double>(total_ - done_);
  else if (expected_s_ > 0.0)
    eta = std::max(0.0, expected_s_ - elapsed);
  if (eta >= 0.0) s += " · ETA " + human_duration(eta);
  return s;
}

std::string Progress::status_text() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return active_ ? status_locked() : std::string();
}

void Progress::draw_locked(bool force) {
  if (!active_ || mode_ == ProgressOptions::Mode::quiet) return;
  const double every =
      mode_ == ProgressOptions::Mode::terminal ? options_.redraw_every_s : options_.plain_every_s;
  if (!force && drawn_ && since(last_draw_) < every) return;
  last_draw_ = Clock::now();
  drawn_ = true;
  std::string s = status_locked();
  if (mode_ == ProgressOptions::Mode::terminal) {
    const size_t width = columns(options_.fd) - 1;
    if (s.size() > width) s = s.substr(0, width - 1) + "…";
    write_locked("\r\033[K" + s);
  } else {
    write_locked(utc_timestamp() + " " + s + "\n");
  }
}

void Progress::clear_locked() {
  if (mode_ == ProgressOptions::Mode::terminal && drawn_) write_locked("\r\033[K");
  drawn_ = false;
}

void Progress::phase(const std::string& name, int64_t total, double expected_s) {
  std::lock_guard<std::mutex> lock(mutex_);
  clear_locked();
  phase_ = name;
  detail_.clear();
  total_ = std::max<int64_t>(0, total);
  done_ = 0;
  expected_s_ = expected_s;
  active_ = true;
  phase_start_ = Clock::now();
  draw_locked(true);
}

void Progress::update(int64_t done, const std::string& detail) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!active_) return;
  done_ = done;
  if (!detail.empty()) detail_ = detail;
  draw_locked(total_ > 0 && done_ >= total_);
}

void Progress::advance(int64_t steps) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!active_) return;
  done_ += steps;
  draw_locked(total_ > 0 && done_ >= total_);
}

void Progress::end_phase() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!active_) return;
  if (mode_ == ProgressOptions::Mode::plain)
    write_locked(utc_timestamp() + " " + options_.program + ": " + phase_ + " done" +
                 (total_ > 0 ? strf(" (%lld/%lld)", static_cast<long long>(done_),
                                    static_cast<long long>(total_))
                             : std::string()) +
                 " in " + human_duration(since(phase_start_)) + "\n");
  clear_locked();
  active_ = false;
}

void Progress::say(const std::string& line) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (mode_ == ProgressOptions::Mode::quiet) return;
  if (mode_ == ProgressOptions::Mode::terminal) {
    clear_locked();
    write_locked(options_.program + ": " + line + "\n");
    draw_locked(true);
  } else {
    write_locked(utc_timestamp() + " " + options_.program + ": " + line + "\n");
  }
}

namespace {
std::unique_ptr<Progress>& process_progress() {
  static std::unique_ptr<Progress> p = std::make_unique<Progress>();
  return p;
}
}  // namespace

Progress& progress() { return *process_progress(); }

void configure_progress(const ProgressOptions& options) {
  process_progress() = std::make_unique<Progress>(options);
}

ProgressPhase::ProgressPhase(const std::string& name, int64_t total, bool on, double expected_s)
    : on_(on) {
  if (on_) progress().phase(name, total, expected_s);
}

ProgressPhase::~ProgressPhase() {
  if (on_) progress().end_phase();
}

void ProgressPhase::update(int64_t done, const std::string& detail) {
  if (on_) progress().update(done, detail);
}

void ProgressPhase::advance(int64_t steps) {
  if (on_) progress().advance(steps);
}

}  // namespace thor
