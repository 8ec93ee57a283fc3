// The status line (thor/progress.hpp): redrawn in place under a real
// pseudo-terminal and cleared at the end, timestamped lines at a limited
// rate when the output is a pipe, nothing when quiet.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <pty.h>
#include <unistd.h>

#include <regex>
#include <string>

#include "thor/error.hpp"
#include "thor/progress.hpp"

using namespace thor;

namespace {

// Everything readable from fd now (non-blocking).
std::string drain(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

const std::string kRedraw = "\r\033[K";

}  // namespace

TEST_CASE("progress: a status line redrawn in place under a pseudo-terminal, cleared at the end") {
  int master = -1, slave = -1;
  REQUIRE(::openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
  ProgressOptions o;
  o.fd = slave;
  o.program = "job";
  o.redraw_every_s = 0.0;  // every update redraws
  {
    Progress p(o);
    CHECK(p.mode() == ProgressOptions::Mode::terminal);  // automatic: the pty is a terminal
    p.phase("profiling", 4);
    p.update(1, "kind hidden:conv");
    p.update(2);
    p.say("a message line");
    p.advance();
    p.end_phase();
    const std::string out = drain(master);
    // The pty's line discipline turns "\n" into "\r\n"; redraws stay as written.
    CHECK(count(out, kRedraw + "job: profiling 1/4 (25%) · kind hidden:conv") == 1);
    CHECK(count(out, kRedraw + "job: profiling 2/4 (50%) · kind hidden:conv") ==
          2);  // redrawn after say
    CHECK(out.find("job: profiling 3/4 (75%)") != std::string::npos);
    CHECK(out.find("ETA") != std::string::npos);
    CHECK(out.find("job: a message line\r\n") != std::string::npos);
    // The last thing written clears the line: no status is left on screen.
    REQUIRE(out.size() >= kRedraw.size());
    CHECK(out.substr(out.size() - kRedraw.size()) == kRedraw);
    // A status line never ends in a newline (it is redrawn, not scrolled).
    CHECK(out.find("(25%)") < out.find("\n"));
    CHECK(out.find("timestamp") == std::string::npos);
  }
  ::close(master);
  ::close(slave);
}

TEST_CASE("progress: plain timestamped lines at a limited rate when not a terminal") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ProgressOptions o;
  o.fd = fds[1];
  o.program = "prune";
  o.plain_every_s = 1000.0;  // only the phase's first line, its completion and its end
  Progress p(o);
  CHECK(p.mode() == ProgressOptions::Mode::plain);
  p.phase("short fine-tunes", 3);
  p.advance();
  p.advance();  // rate-limited: not written
  p.say("ranked");
  p.advance();  // reaching the total is always written
  p.end_phase();
  const std::string out = drain(fds[0]);
  const std::regex line(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ prune: [^\n]*\n)");
  const auto lines =
      std::distance(std::sregex_iterator(out.begin(), out.end(), line), std::sregex_iterator());
  CHECK(lines == 4);  // start, "ranked", 3/3, done
  CHECK(count(out, "\n") == 4);
  CHECK(out.find("prune: short fine-tunes 0/3 (0%)") != std::string::npos);
  CHECK(out.find("prune: short fine-tunes 1/3") == std::string::npos);
  CHECK(out.find("prune: short fine-tunes 3/3 (100%)") != std::string::npos);
  CHECK(out.find("prune: ranked\n") != std::string::npos);
  CHECK(out.find("prune: short fine-tunes done (3/3) in ") != std::string::npos);
  CHECK(out.find('\r') == std::string::npos);
  CHECK(out.find('\033') == std::string::npos);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("progress: quiet writes nothing, even messages") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ProgressOptions o;
  o.fd = fds[1];
  o.mode = ProgressOptions::Mode::quiet;
  {
    Progress p(o);
    p.phase("x", 2);
    p.update(1);
    p.say("hello");
    p.end_phase();
  }
  CHECK(drain(fds[0]).empty());
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("progress: ETA from the pace, or from the expected duration before the first step") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ProgressOptions o;
  o.fd = fds[1];
  Progress p(o);
  p.phase("baseline training", 100, 3600.0);
  CHECK(p.status_text().find("ETA 1 h 00 m") != std::string::npos);  // nothing done yet
  p.update(50);
  CHECK(p.status_text().find("50/100 (50%)") != std::string::npos);
  CHECK(p.status_text().find("ETA 0 s") != std::string::npos);  // as fast as it went so far
  p.end_phase();
  CHECK(p.status_text().empty());
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("progress: durations as people read them, and bad options refused") {
  CHECK(human_duration(4.4) == "4 s");
  CHECK(human_duration(65) == "1 m 05 s");
  CHECK(human_duration(7380) == "2 h 03 m");
  CHECK(human_duration(-1) == "?");
  ProgressOptions o;
  o.plain_every_s = -1;
  CHECK_THROWS_WITH_AS(o.validate(), doctest::Contains("progress.plain_every_s"), InputError);
}
