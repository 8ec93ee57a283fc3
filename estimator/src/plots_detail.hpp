#pragma once
// Internal to thor::estimator: a gnuplot drawing whose PNGs appear
// atomically. Data files, the script and the PNGs are written under hidden
// temp names in the target folder; the PNGs are renamed into place only when
// gnuplot made every one of them, and the temp files are removed whatever
// happens, so a failure leaves neither a half-drawn PNG nor litter behind.
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "thor/gnuplot.hpp"
#include "thor/io.hpp"

namespace thor::detail {

class GnuplotDrawing {
 public:
  /// `what` starts error messages ("estimate --plot", "profile plots").
  GnuplotDrawing(std::string dir, std::string what) : dir_(std::move(dir)), what_(std::move(what)) {
    std::filesystem::create_directories(dir_.empty() ? "." : dir_);
  }
  ~GnuplotDrawing() {
    std::error_code ec;
    for (const auto& t : temps_) std::filesystem::remove(path(t), ec);
  }
  GnuplotDrawing(const GnuplotDrawing&) = delete;
  GnuplotDrawing& operator=(const GnuplotDrawing&) = delete;

  /// The "set terminal" argument for a PNG of this size; throws
  /// std::runtime_error naming `what` when gnuplot cannot draw PNGs.
  std::string terminal(int width, int height) {
    if (terminal_.empty()) {  // asks gnuplot once, whatever the sizes
      std::string why;
      const std::string t = gnuplot_png_terminal(1, 1, why);
      if (t.empty()) throw std::runtime_error(what_ + ": " + why);
      terminal_ = t.substr(0, t.find(' '));
    }
    return terminal_ + " size " + std::to_string(width) + "," + std::to_string(height);
  }
  /// Writes a data file now; returns its temp name (relative to the folder).
  std::string data(const std::string& content) {
    const std::string name = temp_name(".dat");
    write_file_atomic(path(name), content);
    return name;
  }
  /// The temp name the script must write for the final PNG `name`.
  std::string png(const std::string& name) {
    const std::string t = temp_name(".png");
    pngs_.emplace_back(t, name);
    return t;
  }
  /// Runs `script`; renames every PNG into place, or throws
  /// std::runtime_error with gnuplot's message and renames none.
  void draw(const std::string& script) {
    const std::string gp = temp_name(".gp");
    write_file_atomic(path(gp), script);
    std::vector<std::string> expected;
    for (const auto& p : pngs_) expected.push_back(p.first);
    const GnuplotRun run = run_gnuplot(dir_.empty() ? "." : dir_, gp, expected);
    if (!run.ok) throw std::runtime_error(what_ + ": " + run.message);
    for (const auto& [tmp, final_name] : pngs_) {
      std::error_code ec;
      std::filesystem::rename(path(tmp), path(final_name), ec);
      if (ec)
        throw std::runtime_error(what_ + ": cannot rename " + path(tmp) + " to " +
                                 path(final_name) + ": " + ec.message());
    }
  }
  std::string path(const std::string& name) const {
    return (std::filesystem::path(dir_) / name).string();
  }

 private:
  std::string temp_name(const std::string& ext) {
    std::string t =
        ".thor-plot-" + std::to_string(::getpid()) + "-" + std::to_string(temps_.size()) + ext;
    temps_.push_back(t);
    return t;
  }
  std::string dir_, what_, terminal_;
  std::vector<std::string> temps_;
  std::vector<std::pair<std::string, std::string>> pngs_;  // temp name, final name
};

/// `s` as a gnuplot single-quoted string ('' stands for one quote).
inline std::string gnuplot_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

}  // namespace thor::detail
