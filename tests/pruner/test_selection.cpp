// The pruning loop's pure rules: which candidates an oracle fine-tunes, when
// a measured candidate is accepted and which one wins otherwise.
#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>

#include "thor/pruner/selection.hpp"

using namespace thor::pruner;

TEST_CASE("selection: the band under the budget first, in a seeded order") {
  //                         0    1    2    3    4    5    6
  const std::vector<double> f{1.0, 0.9, 0.85, 0.95, 0.5, 1.2, 0.92};
  const Selection s = select_candidates(f, 1.0, 0.1, 3, 7);  // band [0.9, 1.0]
  CHECK(s.feasible == 6);
  CHECK(s.in_band == 4);  // 0, 1, 3, 6
  REQUIRE(s.chosen.size() == 3);
  for (size_t i : s.chosen) CHECK(f[i] >= 0.9);
  CHECK_FALSE(s.none_feasible);
  // The same seed draws the same order; another seed may not, but stays in the band.
  CHECK(select_candidates(f, 1.0, 0.1, 3, 7).chosen == s.chosen);
  for (size_t i : select_candidates(f, 1.0, 0.1, 3, 8).chosen) CHECK(f[i] >= 0.9);
}

TEST_CASE(
    "selection: too few in the band are filled with the feasible ones closest to the budget") {
  const std::vector<double> f{0.95, 0.5, 0.7, 1.5, 0.6};
  const Selection s = select_candidates(f, 1.0, 0.1, 3, 1);
  CHECK(s.in_band == 1);
  CHECK(s.chosen == std::vector<size_t>{0, 2, 4});
}

TEST_CASE("selection: nothing feasible takes the single cheapest") {
  const std::vector<double> f{2.0, 1.5, 3.0, 1.5};
  const Selection s = select_candidates(f, 1.0, 0.1, 3, 1);
  CHECK(s.none_feasible);
  CHECK(s.feasible == 0);
  CHECK(s.chosen == std::vector<size_t>{1});  // the first of the cheapest
}

TEST_CASE("verification: accepted inside the band with a margin on both sides") {
  CHECK(accepts(0.95, 0.1, 0.01));
  CHECK_FALSE(accepts(0.995, 0.1, 0.01));  // too close to the budget
  CHECK_FALSE(accepts(0.905, 0.1, 0.01));  // too close to the band's floor
  CHECK_FALSE(accepts(1.02, 0.1, 0.0));
}

TEST_CASE(
    "verification: the first accepted wins; else in the band; else within; else the cheapest") {
  CHECK(pick_verified({1.2, 0.95}, 0.1, 0.01).index == 1);
  CHECK(pick_verified({1.2, 0.95}, 0.1, 0.01).accepted);
  const Pick in_band = pick_verified({1.2, 0.999, 0.905}, 0.1, 0.01);
  CHECK(in_band.index == 1);
  CHECK_FALSE(in_band.accepted);
  CHECK(pick_verified({1.2, 0.5, 0.7}, 0.1, 0.01).index == 1);
  CHECK(pick_verified({1.3, 1.1, 1.2}, 0.1, 0.01).index == 1);
  CHECK_THROWS_AS(pick_verified({}, 0.1, 0.01), std::invalid_argument);
}
