#include "thor/format.hpp"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <iomanip>
#include <sstream>

namespace thor {

std::string strf(const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list again;
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  std::string out(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(out.data(), out.size() + 1, format, again);
  va_end(again);
  return out;
}

std::string joules_digits(double j) {
  std::ostringstream s;
  if (std::fabs(j) >= 100)
    s << std::fixed << std::setprecision(0) << j;
  else
    s << std::setprecision(3) << j;
  return s.str();
}

std::string joules_text(double j) { return joules_digits(j) + " J"; }

std::string list(const std::vector<int64_t>& values) {
  std::string s = "[";
  for (size_t i = 0; i < values.size(); ++i) s += (i ? "," : "") + std::to_string(values[i]);
  return s + "]";
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i ? separator : "") + items[i];
  return s;
}

}  // namespace thor
