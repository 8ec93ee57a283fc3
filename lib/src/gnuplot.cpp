#include "thor/gnuplot.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <utility>

namespace thor {

namespace {

// Runs a shell command; its exit status and what it printed (stderr too).
std::pair<int, std::string> run_command(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return {-1, "cannot start a shell"};
  std::array<char, 512> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), p)) out += buf.data();
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string gnuplot_png_terminal(int width, int height, std::string& why) {
  if (run_command("command -v gnuplot").first != 0) {
    why = "gnuplot not found; plots skipped (install gnuplot-nox)";
    return "";
  }
  const std::string size = " size " + std::to_string(width) + "," + std::to_string(height);
  for (const char* term : {"pngcairo", "png"}) {
    const auto [rc, out] = run_command(std::string("gnuplot -e \"set terminal ") + term + "\"");
    if (rc == 0 && out.find("unknown") == std::string::npos) return term + size;
  }
  why = "gnuplot has neither the pngcairo nor the png terminal; plots skipped";
  return "";
}

GnuplotRun run_gnuplot(const std::string& dir, const std::string& script,
                       const std::vector<std::string>& expected_pngs) {
  namespace fs = std::filesystem;
  GnuplotRun r;
  const auto [rc, out] =
      run_command("cd " + shell_quote(dir) + " && gnuplot " + shell_quote(script));
  for (const auto& png : expected_pngs) {
    std::error_code ec;
    if (fs::exists(fs::path(dir) / png, ec) && fs::file_size(fs::path(dir) / png, ec) > 0)
      r.made.push_back(png);
  }
  r.ok = rc == 0 && r.made.size() == expected_pngs.size();
  if (!r.ok)
    r.message = "gnuplot " + script + " failed (exit " + std::to_string(rc) + ")" +
                (out.empty() ? "" : ": " + out.substr(0, 400));
  return r;
}

}  // namespace thor
