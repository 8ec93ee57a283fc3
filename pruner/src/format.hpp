#pragma once
// Internal: the pruner's text formatting, shared by the loop and its report.
#include <cstdarg>
#include <cstdio>
#include <string>

#include "thor/pruner/pruner.hpp"

namespace thor::pruner::detail {

/// printf-style formatting into a std::string (lines of a report or log).
inline std::string strf(const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

/// "[a,b,c]".
inline std::string list(const ChannelConfig& c) {
  std::string s = "[";
  for (size_t i = 0; i < c.size(); ++i) s += (i ? "," : "") + std::to_string(c[i]);
  return s + "]";
}

}  // namespace thor::pruner::detail
