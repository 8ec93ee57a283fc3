#pragma once
/// \file
/// Plots of a DeviceProfile, one PNG per layer kind, so a user can see why
/// the estimator believes what it does: for a 1-feature kind (input or
/// output block) the layer model's mean and ±2σ band over the kind's
/// channel range with the derived measurements (±2σ from their known noise)
/// on top; for a 2-feature kind (hidden block) a heat map of the mean over
/// (C_in, C_out) and one of the relative std, with the measured points on
/// both. `profile --plots DIR` calls it; prune and search can too.
#include <string>
#include <vector>

#include "thor/profile.hpp"

namespace thor {

/// The file name (no folder) of kind number `index` (in the profile's key
/// order) with key `key`: "NN-" + the key with every character outside
/// [A-Za-z0-9._-] turned into '_' (runs collapsed), cut to 120 characters,
/// + ".png". The number keeps names unique when two keys clean up alike.
std::string kind_plot_name(size_t index, const std::string& key);

/// Draws one PNG per kind with measurements into `dir` (created if missing)
/// and writes `index.txt` there: one line per PNG, "FILE<TAB>KIND KEY".
/// Each file appears atomically (temp name in `dir`, then rename); files of
/// other names in `dir` are left alone. Returns the paths written, PNGs
/// first, index.txt last. Throws std::runtime_error when gnuplot is missing
/// or fails.
std::vector<std::string> write_profile_plots(const DeviceProfile& profile, const std::string& dir);

}  // namespace thor
