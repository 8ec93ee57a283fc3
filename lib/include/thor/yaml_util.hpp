#pragma once
/// \file
/// Reading YAML with errors that name the file, line and key path, e.g.
/// "recipes/x.yaml:12: key 'train.lr': expected a positive number, got 'fast'".
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "thor/error.hpp"

namespace thor {

/// A YAML node with where it came from: file and key path.
struct YamlCursor {
  YAML::Node node;
  std::string file;
  std::string path;        ///< dotted key path, "" for the document root
  int fallback_line = -1;  ///< line to report when the node itself has none

  /// 1-based line of this node (or of its parent when absent); -1 if unknown.
  int line() const;

  /// "file:line" of this node (line 1-based), or just "file" if unknown.
  std::string where() const;
  /// Throws InputError "file:line: key 'path': message".
  [[noreturn]] void fail(const std::string& message) const;
  /// The child `key` (possibly undefined).
  YamlCursor child(const std::string& key) const;
  /// Element i of a sequence.
  YamlCursor at(size_t i) const;
  bool has(const std::string& key) const;
  bool is_map() const { return node.IsMap(); }
  bool is_sequence() const { return node.IsSequence(); }
  bool is_scalar() const { return node.IsScalar(); }
  /// Fails unless every key of this map is in `allowed` (names the unknown key
  /// and lists the allowed ones); also fails when this is not a map.
  void allow_only(std::initializer_list<const char*> allowed) const;
  void expect_map() const;
  void expect_sequence() const;

  std::string as_string() const;
  int64_t as_int() const;
  double as_double() const;
  bool as_bool() const;
  std::vector<int64_t> as_int_list() const;
  std::vector<double> as_double_list() const;
  std::vector<std::string> as_string_list() const;

  /// Child values with a default when the key is absent. Only the type is
  /// checked here ("expected an integer"); the rules live in the options
  /// struct's validate(), run through validate_with().
  int64_t get_int(const std::string& key, int64_t fallback) const;
  /// An integer that fits an `int` field (else "expected a 32-bit integer").
  int get_int32(const std::string& key, int fallback) const;
  /// A non-negative integer (seeds): "expected an integer >= 0" otherwise.
  uint64_t get_uint(const std::string& key, uint64_t fallback) const;
  double get_double(const std::string& key, double fallback) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;
  bool get_bool(const std::string& key, bool fallback) const;
  /// With range checks, for formats without an options struct (the layers
  /// of an architecture): "value 9 out of range [1, 8]".
  int64_t get_int(const std::string& key, int64_t fallback, int64_t min, int64_t max) const;
  double get_double(const std::string& key, double fallback, double min, double max) const;

  /// Recipe key names of struct fields that are spelt otherwise:
  /// {"measure.min_window_seconds", "min_window"} maps that field and
  /// everything under it; an empty key drops the prefix
  /// ({"measure", ""}: "measure.iterations" is the key "iterations").
  using Aliases = std::initializer_list<std::pair<const char*, const char*>>;

  /// Runs `validate` (an options struct's validate(), or a lambda calling
  /// several) on what was parsed from this section. A FieldError is
  /// reported at the line of the deepest key of its field path present
  /// under this cursor (the section's line when none is):
  /// "file:line: key 'prune.budget.fraction': expected a fraction in (0, 1], got 1.5".
  /// Any other InputError is reported at this section's line.
  void validate_with(const std::function<void()>& validate, const Aliases& aliases = {}) const;
  /// The cursor of a field path ("budget.fraction", "compare[1]") under
  /// this one: its path is the whole key path, its line that of the deepest
  /// existing key on the way.
  YamlCursor locate(const std::string& field) const;
};

/// Parses a YAML file; a syntax error names the file and line.
YamlCursor load_yaml_file(const std::string& path);
/// Parses YAML text; `where` stands for the file in messages.
YamlCursor load_yaml_text(const std::string& text, const std::string& where);

}  // namespace thor
