#pragma once
/// \file
/// Exceptions thrown by thor. Messages start with where the problem is
/// (a file and line, a flag, a recipe key, a sensor path), then what was
/// expected. Programs map InputError to exit code 2 and anything else to 1.
#include <stdexcept>
#include <string>

namespace thor {

/// Bad input from the user: a file, a flag, a recipe key, an architecture.
class InputError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// An energy sensor that is absent or cannot be read (permissions, format).
class SensorError : public InputError {
 public:
  using InputError::InputError;
};

}  // namespace thor
