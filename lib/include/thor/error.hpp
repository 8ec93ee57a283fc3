#pragma once
/// \file
/// Exceptions thrown by thor. Messages start with where the problem is
/// (a file and line, a flag, a recipe key, a sensor path), then what was
/// expected. Programs map InputError to exit code 2 and anything else to 1.
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

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

/// A field of an options struct that breaks a rule of its validate(). The
/// field is named by its path in the struct ("samples", "budget.fraction",
/// "compare[1]"), so that a recipe parser can report it at the line of the
/// matching key (YamlCursor::validate_with). what() reads on its own:
/// "prune.budget.fraction = 1.5: expected a fraction in (0, 1]".
class FieldError : public InputError {
 public:
  /// A rule that is not about one value: what() is "field: message".
  FieldError(std::string field, std::string message)
      : FieldError({}, std::move(field), {}, message, message) {}

  /// `value` (as text) breaks `rule` ("expected >= 1"). what() is
  /// "field = value: rule"; detail() is `detail`, else "rule, got value".
  static FieldError bad_value(std::string field, std::string value, std::string rule,
                              std::string detail = {}) {
    if (detail.empty()) detail = rule + ", got " + value;
    return FieldError({}, std::move(field), std::move(value), std::move(rule), std::move(detail));
  }

  /// The path of the field in its options struct.
  const std::string& field() const { return field_; }
  /// The offending value as text ("" when the rule is not about one value).
  const std::string& value() const { return value_; }
  /// What is wrong, value included, without the field's name:
  /// "expected a fraction in (0, 1], got 1.5".
  const std::string& detail() const { return detail_; }
  /// What the struct is called in what() ("prune", "measure"); may be "".
  const std::string& scope() const { return scope_; }

  /// The same error named in `scope` (what() "scope.field ...").
  FieldError in_scope(std::string scope) const {
    return FieldError(std::move(scope), field_, value_, rule_, detail_);
  }
  /// The same error seen from a struct holding this one's as `member`
  /// ("proxy" + "iterations" -> "proxy.iterations"); "" keeps the path.
  FieldError under(const std::string& member, std::string scope) const {
    return FieldError(std::move(scope), member.empty() ? field_ : member + "." + field_, value_,
                      rule_, detail_);
  }

 private:
  FieldError(std::string scope, std::string field, std::string value, std::string rule,
             std::string detail)
      : InputError((scope.empty()   ? field
                    : field.empty() ? scope
                                    : scope + "." + field) +
                   (value.empty() ? "" : " = " + value) + ": " + rule),
        scope_(std::move(scope)),
        field_(std::move(field)),
        value_(std::move(value)),
        rule_(std::move(rule)),
        detail_(std::move(detail)) {}

  std::string scope_, field_, value_, rule_, detail_;
};

/// A number as validate() messages write it: up to 10 significant digits.
inline std::string value_text(double v) {
  std::ostringstream s;
  s.precision(10);
  s << v;
  return s.str();
}

/// The rules of one validate(), a line each. Every failure is a FieldError
/// in `scope`, e.g. FieldRules("prune").count("samples", samples, 1, 10000000).
class FieldRules {
 public:
  explicit FieldRules(std::string scope) : scope_(std::move(scope)) {}

  /// An integer in [min, max]: "value 0 out of range [1, 10000000]".
  void count(const std::string& field, int64_t v, int64_t min,
             int64_t max = std::numeric_limits<int64_t>::max()) const {
    if (v >= min && v <= max) return;
    const std::string hi = max == std::numeric_limits<int64_t>::max() ? "inf" : std::to_string(max);
    range_error(field, std::to_string(v), std::to_string(min), hi);
  }
  /// A number in [min, max] (NaN fails): "value 1.5 out of range [0, 0.99]".
  void number(const std::string& field, double v, double min,
              double max = std::numeric_limits<double>::infinity()) const {
    if (v >= min && v <= max) return;
    range_error(field, value_text(v), value_text(min), value_text(max));
  }
  /// `ok`, else "field = value: rule" (detail "rule, got value").
  void require(bool ok, const std::string& field, const std::string& value,
               const std::string& rule) const {
    if (!ok) throw FieldError::bad_value(field, value, rule).in_scope(scope_);
  }
  /// A rule that is not about one value: "field: message".
  [[noreturn]] void fail(const std::string& field, const std::string& message) const {
    throw FieldError(field, message).in_scope(scope_);
  }
  /// Runs a nested struct's validate(); its FieldErrors come out as
  /// "member.field" in this scope ("" for a struct whose fields sit beside
  /// this one's, as search's strategy options do).
  template <class Validate>
  void nested(const std::string& member, Validate&& validate) const {
    try {
      validate();
    } catch (const FieldError& e) {
      throw e.under(member, scope_);
    }
  }

 private:
  [[noreturn]] void range_error(const std::string& field, const std::string& v,
                                const std::string& lo, const std::string& hi) const {
    const std::string range = "[" + lo + ", " + hi + "]";
    throw FieldError::bad_value(field, v, "expected a value in " + range,
                                "value " + v + " out of range " + range)
        .in_scope(scope_);
  }

  std::string scope_;
};

}  // namespace thor
