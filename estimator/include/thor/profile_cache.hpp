#pragma once
/// \file
/// "Reuse the cached profile or profile again": one rule for every caller
/// (prune, search, the benches, the examples). A cached profile is reused
/// when it was made under the same settings (machine, meter, protocol,
/// training feed) and covers every layer kind the architectures need over
/// their whole channel range; otherwise the architectures are profiled and
/// the reason is reported.
#include <functional>
#include <string>
#include <vector>

#include "thor/architecture.hpp"
#include "thor/meter.hpp"
#include "thor/profile.hpp"
#include "thor/profiler.hpp"
#include "thor/protocol.hpp"

namespace thor {

struct ProfileRequest {
  /// Cached profile to reuse ("" = none). A new profile is written here when
  /// `save` is set.
  std::string path;
  bool save = true;
  /// Every network the profile must estimate (a search's structures at their
  /// largest widths, a pruning baseline).
  std::vector<Architecture> architectures;
  /// How to profile; its protocol and feed define "the same settings".
  ProfilerOptions profiler;
  MeterOptions meter_options;
  /// Told the decision (ProfileDecision::reason) before any profiling starts.
  std::function<void(const std::string&)> on_decision;
  /// Throws InputError naming the field.
  void validate() const;
};

struct ProfileDecision {
  DeviceProfile profile;
  bool reused = false;
  int measured = 0;     ///< variant networks measured (0 when reused)
  std::string reason;   ///< why the cache was reused or not ("no cached profile at P", ...)
  std::string warning;  ///< set when a cached file exists but cannot be read
  /// After profiling: kinds, variants measured and reused from the journal.
  std::string summary;
};

/// The request a recipe's job makes: its `profile:` settings and optimizer,
/// variants fed from `train` (null: the stand-in), cached at `path` with its
/// journal beside it (`path` empty: no cache, no journal), progress as given.
ProfileRequest recipe_profile_request(const Recipe& recipe, std::vector<Architecture> architectures,
                                      const Dataset* train, const std::string& path, bool progress);

/// Empty when `profile` was made under `now` and covers every kind of
/// `architectures` over [channel_lower, largest count]; else the first reason
/// it cannot be used, e.g. "kind conv(1→c)@28x28 covers channels 1..8, needs 1..16".
std::string profile_mismatch(const DeviceProfile& profile,
                             const std::vector<Architecture>& architectures,
                             const ProfileSettings& now, int64_t channel_lower = 1);

/// The decision alone, nothing profiled or written (dry runs): `reused` and
/// the cached profile when request.path passes profile_mismatch, else the reason.
ProfileDecision decide_profile(const ProfileRequest& request, EnergyMeter& meter);

/// Wall time (low, high) a fresh profile of `request` would take at `pace`:
/// each planned kind's min..max points, every point a protocol measurement
/// of its variant network, plus the drift references and the anchors.
std::pair<double, double> forecast_profiling(const ProfileRequest& request, const PaceModel& pace);

/// The cached profile at request.path if it passes profile_mismatch, else a
/// fresh run_profiler (saved to request.path when `save`; its journal removed
/// after success). A cached file that cannot be read is profiled over, with
/// the read error as the reason.
ProfileDecision ensure_profile(const ProfileRequest& request, EnergyMeter& meter);

/// The profile of a job on every rank (thor::Cluster). Rank 0 runs `make`
/// (ensure_profile, typically) and broadcasts the result; every rank's host
/// must match the profile's (CPU model, cores, LibTorch), else every rank
/// throws the same InputError naming the rank, its host and the difference:
/// a profile describes one kind of device, and its joules do not transfer to
/// another (profile each node type and run a job on one type). One rank:
/// make() alone (ensure_profile's settings check already covers the host).
DeviceProfile share_profile(const std::function<DeviceProfile()>& make);

}  // namespace thor
