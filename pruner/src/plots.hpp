#pragma once
// Internal: PNG plots of a pruning run with gnuplot (an external program, so
// a missing gnuplot only costs the plots, with a warning).
#include <string>
#include <vector>

#include "thor/pruner/pruner.hpp"

namespace thor::pruner::detail {

/// Writes the data files, plots.gp and the PNGs into `dir`; returns the PNG
/// names written and appends a warning for every plot that could not be made.
std::vector<std::string> write_plots(const PruneResult& result, const std::string& dir,
                                     std::vector<std::string>& warnings);

}  // namespace thor::pruner::detail
