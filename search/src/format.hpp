#pragma once
// Internal: number formatting shared by the search's reports.
#include <cmath>
#include <iomanip>
#include <sstream>
#include <string>

namespace thor::search::detail {

// Joules with sensible digits: 7120, 3.47, 0.00312.
inline std::string jtext(double j) {
  std::ostringstream s;
  if (std::fabs(j) >= 100)
    s << std::fixed << std::setprecision(0) << j;
  else
    s << std::setprecision(3) << j;
  return s.str();
}

}  // namespace thor::search::detail
