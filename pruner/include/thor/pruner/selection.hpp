#pragma once
/// \file
/// The pure rules of the pruning loop, apart from any training or metering
/// so that they can be read and tested on their own:
///  - which pooled configurations an oracle sends to the short fine-tune;
///  - when a measured candidate is accepted, and which one wins when none is.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace thor::pruner {

/// The configurations one oracle fine-tunes, as indices into the pool.
struct Selection {
  std::vector<std::size_t> chosen;  ///< in fine-tune order
  int64_t feasible = 0;             ///< pool entries within the budget
  int64_t in_band = 0;              ///< of those, in [(1 - band)·budget, budget]
  bool none_feasible = false;       ///< nothing fits: `chosen` is the single cheapest
};

/// `figures`: the oracle's joules per iteration of every pooled
/// configuration. Takes up to `count` of those in the band just under
/// `budget` in a random order drawn from `seed` (the same for every oracle),
/// then, if short, the feasible ones closest to the budget; when nothing is
/// feasible, the cheapest alone.
Selection select_candidates(const std::vector<double>& figures, double budget, double band,
                            int64_t count, uint64_t seed);

/// A verified candidate is accepted when its measured energy over the
/// budget, q, lies in [1 - band + margin, 1 - margin]: inside the band, with
/// a margin for measurement noise on both sides.
bool accepts(double q, double band, double margin);

/// The winner among candidates verified in rank order, given their q:
/// the first accepted; else the first inside the band (q in [1 - band, 1]);
/// else the first within the budget; else the cheapest. Requires q non-empty.
struct Pick {
  std::size_t index = 0;  ///< into q
  bool accepted = false;
};
Pick pick_verified(const std::vector<double>& q, double band, double margin);

}  // namespace thor::pruner
