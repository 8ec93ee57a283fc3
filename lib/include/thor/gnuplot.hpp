#pragma once
/// \file
/// The one gnuplot runner: picks a PNG terminal this gnuplot has, runs a
/// script inside its folder (the folder's name shell-quoted, so any path
/// works) and says which PNGs it made, or why it made none.
#include <string>
#include <vector>

namespace thor {

/// `s` as one single-quoted word for /bin/sh.
std::string shell_quote(const std::string& s);

/// "set terminal ..." for a PNG: pngcairo (antialiased text), else png
/// (libgd); empty with `why` set when gnuplot or both terminals are missing.
std::string gnuplot_png_terminal(int width, int height, std::string& why);

struct GnuplotRun {
  bool ok = false;                ///< gnuplot exited 0 and every expected PNG is non-empty
  std::vector<std::string> made;  ///< expected PNGs that exist (names relative to the folder)
  std::string message;            ///< why not, with the first lines gnuplot printed
};

/// Runs `gnuplot SCRIPT` in `dir` and checks that it wrote `expected_pngs`.
GnuplotRun run_gnuplot(const std::string& dir, const std::string& script,
                       const std::vector<std::string>& expected_pngs);

}  // namespace thor
