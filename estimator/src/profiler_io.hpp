#pragma once
// Internal to the profiler: its append-only journal (the resume source) and
// its progress output.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "thor/error.hpp"

namespace thor::detail {

struct Journal {
  std::string path;
  std::map<std::string, RawMeasurement> cache;  // by key + "|" + variant summary

  static std::string id(const std::string& key, const std::string& variant) {
    return key + "|" + variant;
  }

  void open(const std::string& p, const nlohmann::json& header) {
    path = p;
    if (path.empty()) return;
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    std::ifstream in(path);
    if (in) {
      std::string line;
      bool first = true;
      int64_t number = 0;
      while (std::getline(in, line)) {
        ++number;
        nlohmann::json j;
        try {
          j = nlohmann::json::parse(line);
        } catch (const std::exception&) {
          continue;  // a line cut by a kill: that measurement is taken again
        }
        if (first) {
          first = false;
          if (j.contains("journal")) {
            if (j != header)
              throw InputError(path + ": journal was written with other settings (" + j.dump() +
                               "); delete it or choose another output");
            continue;
          }
        }
        if (!j.contains("key")) continue;
        RawMeasurement m;
        try {  // a whole line (a cut one is not JSON) that is not a measurement: not ours
          m.features = j.at("features").get<std::vector<double>>();
          m.variant = j.at("variant").get<std::string>();
          m.measured = j.at("measured").get<double>();
          m.cv = j.at("cv").get<double>();
          m.seconds = j.at("seconds").get<double>();
          m.flops = j.at("flops").get<double>();
          m.variance = j.at("median_variance").get<double>();
          m.feed = j.at("feed").get<std::string>();
          cache[id(j.at("key").get<std::string>(), m.variant)] = m;
        } catch (const nlohmann::json::exception& e) {
          throw InputError(path + ":" + std::to_string(number) + ": not a measurement (" +
                           e.what() + "); delete the journal or choose another output");
        }
      }
      if (!first) return;
    }
    append(header);
  }

  void append(const nlohmann::json& j) {
    if (path.empty()) return;
    FILE* f = std::fopen(path.c_str(), "a");
    if (!f) throw InputError(path + ": cannot open journal for appending");
    const std::string line = j.dump() + "\n";
    std::fwrite(line.data(), 1, line.size(), f);
    std::fflush(f);
    ::fsync(fileno(f));
    std::fclose(f);
  }
};

}  // namespace thor::detail
