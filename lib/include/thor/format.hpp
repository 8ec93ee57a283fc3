#pragma once
/// \file
/// The one place thor formats numbers into text for reports, progress lines
/// and messages, so every tool writes joules and lists the same way.
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace thor {

/// printf-style formatting into a std::string (any length).
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
std::string
strf(const char* format, ...);

/// The shortest natural form of a number, as a stream prints it: "12.5",
/// "1e-06". Inline, so header-only users (thor::gp) need not link thor.
inline std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

/// Joules with sensible digits and no unit: "7120", "3.47", "0.00312".
std::string joules_digits(double j);
/// joules_digits(j) + " J".
std::string joules_text(double j);

/// "[a,b,c]" for channel counts and other integer lists.
std::string list(const std::vector<int64_t>& values);

/// "a, b, c".
std::string join(const std::vector<std::string>& items, const std::string& separator = ", ");

}  // namespace thor
