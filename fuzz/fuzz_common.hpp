#pragma once
// Shared by the libFuzzer harnesses: the contract every reader is held to
// (an input loads, or ends in one thor::InputError with a message; anything
// else is a finding) and a per-process scratch folder for readers that take
// a path.
#include <cxxabi.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include "thor/error.hpp"

namespace thor::fuzz {

/// Prints why the input is a finding and aborts (libFuzzer saves the input).
[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "\nthor fuzz finding: %s\n", what.c_str());
  std::fflush(stderr);
  __builtin_trap();
}

/// The dynamic type of an exception, demangled ("nlohmann::...::type_error").
inline std::string type_name(const std::exception& e) {
  int status = 0;
  const char* mangled = typeid(e).name();
  std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && name ? name.get() : mangled;
}

/// Runs `load`; returns true when it completed, false when it threw an
/// InputError whose message names `where` (the file; "" to only require a
/// message): the program would exit 2. Any other exception, or an
/// InputError without a message or without `where`, is a finding (the
/// program would exit 1, "internal error", or say nothing useful).
template <class Load>
bool loads_or_input_error(Load&& load, const std::string& where = "") {
  try {
    load();
    return true;
  } catch (const InputError& e) {
    const std::string msg = e.what();
    if (msg.empty()) finding("InputError with an empty message");
    if (msg.find(where) == std::string::npos)
      finding("InputError that does not name " + where + ": " + msg);
    return false;
  } catch (const std::exception& e) {
    finding("not an InputError (would exit 1): " + type_name(e) + ": " + e.what());
  } catch (...) {
    finding("an exception not derived from std::exception");
  }
}

/// A scratch folder of this process, thor-fuzz-<pid> in /dev/shm (memory:
/// the readers' writers fsync) or else the temp folder, removed at exit.
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    std::error_code ec;
    const std::filesystem::path shm = "/dev/shm";
    const auto base = std::filesystem::is_directory(shm, ec) && ::access("/dev/shm", W_OK) == 0
                          ? shm
                          : std::filesystem::temp_directory_path();
    const auto d = base / ("thor-fuzz-" + std::to_string(static_cast<long>(::getpid())));
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch(), ec);
    });
    return d;
  }();
  return dir;
}

/// Writes `size` bytes to `path` (replacing it), creating its folder.
inline void write_bytes(const std::filesystem::path& path, const uint8_t* data, size_t size) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) finding("cannot write the scratch file " + path.string());
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  write_bytes(path, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

/// Splits `data` at each occurrence of `separator` (the container format of
/// the harnesses that need several files from one input).
inline std::vector<std::string> split_parts(const uint8_t* data, size_t size,
                                            const std::string& separator) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  size_t pos = 0;
  for (;;) {
    const size_t at = text.find(separator, pos);
    if (at == std::string::npos) break;
    parts.push_back(text.substr(pos, at - pos));
    pos = at + separator.size();
  }
  parts.push_back(text.substr(pos));
  return parts;
}

}  // namespace thor::fuzz
