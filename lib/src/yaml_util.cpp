#include "thor/yaml_util.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>

namespace thor {

std::string YamlCursor::where() const {
  const int l = line();
  return l > 0 ? file + ":" + std::to_string(l) : file;
}

void YamlCursor::fail(const std::string& message) const {
  std::string msg = where() + ": ";
  if (!path.empty()) msg += "key '" + path + "': ";
  throw InputError(msg + message);
}

YamlCursor YamlCursor::child(const std::string& key) const {
  YamlCursor c{YAML::Node(YAML::NodeType::Undefined), file, path.empty() ? key : path + "." + key};
  if (node.IsMap()) {
    const YAML::Node& self = node;  // const access never inserts the key
    c.node = self[key];
  }
  // An absent child has no line of its own: report the parent's.
  c.fallback_line = line();
  return c;
}

int YamlCursor::line() const {
  if (node.IsDefined()) {
    const YAML::Mark mark = node.Mark();
    if (mark.line >= 0) return mark.line + 1;
  }
  return fallback_line;
}

YamlCursor YamlCursor::at(size_t i) const {
  const YAML::Node& self = node;
  YamlCursor c{self[i], file, path + "[" + std::to_string(i) + "]"};
  c.fallback_line = line();
  return c;
}

bool YamlCursor::has(const std::string& key) const {
  return node.IsMap() && node[key].IsDefined() && !node[key].IsNull();
}

void YamlCursor::expect_map() const {
  if (!node.IsMap()) fail("expected a mapping (key: value lines)");
}

void YamlCursor::expect_sequence() const {
  if (!node.IsSequence()) fail("expected a list");
}

void YamlCursor::allow_only(std::initializer_list<const char*> allowed) const {
  expect_map();
  for (const auto& kv : node) {
    if (kv.first.IsSequence() || kv.first.IsMap()) {  // YAML's "? [a, b]: c"
      YamlCursor k{kv.first, file, path};
      k.fallback_line = line();
      k.fail("expected a key name, got a " + std::string(kv.first.IsMap() ? "mapping" : "list") +
             " as a key");
    }
    const std::string key = kv.first.as<std::string>();
    bool ok = false;
    for (const char* a : allowed) ok = ok || key == a;
    if (!ok) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      YamlCursor k{kv.first, file, path.empty() ? key : path + "." + key};
      k.fallback_line = line();
      k.fail("unknown key; allowed here: " + list);
    }
  }
}

std::string YamlCursor::as_string() const {
  if (!node.IsDefined() || node.IsNull()) fail("missing value");
  if (!node.IsScalar()) fail("expected a single value");
  return node.Scalar();
}

int64_t YamlCursor::as_int() const {
  const std::string s = as_string();
  try {
    size_t used = 0;
    const long long v = std::stoll(s, &used, 10);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  fail("expected an integer, got '" + s + "'");
}

double YamlCursor::as_double() const {
  const std::string s = as_string();
  try {
    size_t used = 0;
    const double v = std::stod(s, &used);
    if (used == s.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  fail("expected a number, got '" + s + "'");
}

bool YamlCursor::as_bool() const {
  const std::string s = as_string();
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  fail("expected true or false, got '" + s + "'");
}

std::vector<int64_t> YamlCursor::as_int_list() const {
  expect_sequence();
  std::vector<int64_t> out;
  for (size_t i = 0; i < node.size(); ++i) out.push_back(at(i).as_int());
  return out;
}

std::vector<double> YamlCursor::as_double_list() const {
  expect_sequence();
  std::vector<double> out;
  for (size_t i = 0; i < node.size(); ++i) out.push_back(at(i).as_double());
  return out;
}

std::vector<std::string> YamlCursor::as_string_list() const {
  expect_sequence();
  std::vector<std::string> out;
  for (size_t i = 0; i < node.size(); ++i) out.push_back(at(i).as_string());
  return out;
}

int64_t YamlCursor::get_int(const std::string& key, int64_t fallback, int64_t min,
                            int64_t max) const {
  if (!has(key)) return fallback;
  const YamlCursor c = child(key);
  const int64_t v = c.as_int();
  if (v < min || v > max)
    c.fail("value " + std::to_string(v) + " out of range [" + std::to_string(min) + ", " +
           (max == std::numeric_limits<int64_t>::max() ? std::string("inf") : std::to_string(max)) +
           "]");
  return v;
}

double YamlCursor::get_double(const std::string& key, double fallback, double min,
                              double max) const {
  if (!has(key)) return fallback;
  const YamlCursor c = child(key);
  const double v = c.as_double();
  if (v < min || v > max) {
    auto fmt = [](double x) {
      if (std::isinf(x)) return std::string(x > 0 ? "inf" : "-inf");
      std::string s = std::to_string(x);
      while (s.size() > 1 && s.back() == '0') s.pop_back();
      if (!s.empty() && s.back() == '.') s.pop_back();
      return s;
    };
    c.fail("value " + fmt(v) + " out of range [" + fmt(min) + ", " + fmt(max) + "]");
  }
  return v;
}

int64_t YamlCursor::get_int(const std::string& key, int64_t fallback) const {
  return has(key) ? child(key).as_int() : fallback;
}

int YamlCursor::get_int32(const std::string& key, int fallback) const {
  if (!has(key)) return fallback;
  const YamlCursor c = child(key);
  const int64_t v = c.as_int();
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
    c.fail("expected a 32-bit integer, got " + std::to_string(v));
  return static_cast<int>(v);
}

uint64_t YamlCursor::get_uint(const std::string& key, uint64_t fallback) const {
  if (!has(key)) return fallback;
  const YamlCursor c = child(key);
  const std::string s = c.as_string();
  try {
    size_t used = 0;
    if (!s.empty() && s[0] != '-') {
      const unsigned long long v = std::stoull(s, &used, 10);
      if (used == s.size()) return v;
    }
  } catch (const std::exception&) {
  }
  c.fail("expected an integer >= 0, got '" + s + "'");
}

double YamlCursor::get_double(const std::string& key, double fallback) const {
  return has(key) ? child(key).as_double() : fallback;
}

YamlCursor YamlCursor::locate(const std::string& field) const {
  // Cursors are built, never assigned: assigning a YAML::Node rebinds the
  // node it refers to, and so would rewrite the document.
  size_t i = 0;
  while (i < field.size() && field[i] == '.') ++i;
  if (i == field.size()) return *this;
  if (field[i] == '[') {
    const size_t close = std::min(field.find(']', i), field.size());
    const std::string step = field.substr(i + 1, close - i - 1);
    const std::string rest = close < field.size() ? field.substr(close + 1) : "";
    const bool number = !step.empty() && step.size() < 19 &&
                        step.find_first_not_of("0123456789") == std::string::npos;
    const size_t n = number ? static_cast<size_t>(std::stoull(step)) : 0;
    if (number && node.IsDefined() && node.IsSequence() && n < node.size())
      return at(n).locate(rest);
    // An absent element is reported at the line of the deepest key present.
    YamlCursor absent{YAML::Node(YAML::NodeType::Undefined), file, path + "[" + step + "]"};
    absent.fallback_line = line();
    return absent.locate(rest);
  }
  const size_t end = std::min(field.find_first_of(".[", i), field.size());
  const std::string key = field.substr(i, end - i);
  const YAML::Node& self = node;  // const access never inserts the key
  if (node.IsDefined() && node.IsMap() && self[key].IsDefined())
    return child(key).locate(field.substr(end));
  YamlCursor absent{YAML::Node(YAML::NodeType::Undefined), file,
                    path.empty() ? key : path + "." + key};
  absent.fallback_line = line();
  return absent.locate(field.substr(end));
}

void YamlCursor::validate_with(const std::function<void()>& validate,
                               const Aliases& aliases) const {
  try {
    validate();
  } catch (const FieldError& e) {
    std::string field = e.field();
    for (const auto& [from_text, to_text] : aliases) {
      const std::string from = from_text, to = to_text;
      if (field == from) {
        field = to;
        break;
      }
      if (field.compare(0, from.size() + 1, from + ".") == 0) {
        field = to.empty() ? field.substr(from.size() + 1) : to + field.substr(from.size());
        break;
      }
    }
    locate(field).fail(e.detail());
  } catch (const InputError& e) {
    fail(e.what());
  }
}

std::string YamlCursor::get_string(const std::string& key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  return child(key).as_string();
}

bool YamlCursor::get_bool(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  return child(key).as_bool();
}

YamlCursor load_yaml_text(const std::string& text, const std::string& where) {
  try {
    return YamlCursor{YAML::Load(text), where, ""};
  } catch (const YAML::Exception& e) {
    throw InputError(where + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
}

YamlCursor load_yaml_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open YAML file");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return load_yaml_text(text, path);
}

}  // namespace thor
