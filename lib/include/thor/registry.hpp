#pragma once
/// \file
/// One registry for every extension point of thor (meters, GP kernels and
/// means, pruning and search strategies, cost oracles). A registry maps
/// names to factories. It is add-only: adding a name that exists is an
/// error, and replacing a built-in (or any entry) is the explicit call
/// replace(). Built-ins are registered once, on the registry's first use,
/// so a user's entry can never be overwritten by a later "register the
/// built-ins" call. Thread-safe. See docs/extending.md.
#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "thor/error.hpp"

namespace thor {

template <class Factory>
class Registry {
 public:
  using Entries = std::vector<std::pair<std::string, Factory>>;

  /// `what` names the extension point in messages ("meter", "search strategy").
  /// `builtins` lists the built-in entries; it is called once, before any other use.
  explicit Registry(std::string what, std::function<Entries()> builtins = {})
      : what_(std::move(what)), builtins_(std::move(builtins)) {}
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// Adds `name`; throws std::invalid_argument when it is empty or taken
  /// (use replace() to override an entry on purpose).
  void add(const std::string& name, Factory factory) {
    ensure_builtins();
    if (name.empty()) throw std::invalid_argument(what_ + " registry: empty name");
    std::lock_guard<std::mutex> lock(mutex_);
    if (!entries_.emplace(name, std::move(factory)).second)
      throw std::invalid_argument(what_ + " '" + name +
                                  "' is already registered; call replace() to override it");
  }

  /// Adds `name`, or overrides the entry of that name (a built-in included).
  void replace(const std::string& name, Factory factory) {
    ensure_builtins();
    if (name.empty()) throw std::invalid_argument(what_ + " registry: empty name");
    std::lock_guard<std::mutex> lock(mutex_);
    entries_[name] = std::move(factory);
  }

  bool contains(const std::string& name) const {
    ensure_builtins();
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.count(name) > 0;
  }

  /// Registered names, sorted.
  std::vector<std::string> names() const {
    ensure_builtins();
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out;
    for (const auto& entry : entries_) out.push_back(entry.first);
    return out;
  }

  /// "a, b, c": the registered names for messages.
  std::string known() const {
    std::string s;
    for (const auto& n : names()) s += (s.empty() ? "" : ", ") + n;
    return s;
  }

  /// The factory of `name`; an unknown name is an InputError listing the
  /// registered ones ("unknown meter 'x'; registered: a, b").
  Factory get(const std::string& name) const {
    ensure_builtins();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = entries_.find(name);
      if (it != entries_.end()) return it->second;
    }
    throw InputError(what_ + " '" + name + "': unknown; registered: " + known());
  }

  /// get(name)(args...).
  template <class... Args>
  auto create(const std::string& name, Args&&... args) const {
    return get(name)(std::forward<Args>(args)...);
  }

  const std::string& what() const { return what_; }

 private:
  void ensure_builtins() const {
    std::call_once(builtins_once_, [this] {
      if (!builtins_) return;
      Entries entries = builtins_();
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& [name, factory] : entries) entries_.emplace(name, std::move(factory));
    });
  }

  std::string what_;
  std::function<Entries()> builtins_;
  mutable std::once_flag builtins_once_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, Factory> entries_;  // mutable: built-ins arrive on first use
};

}  // namespace thor
