// The search's checkpoint (search/src/search.cpp, load_checkpoint, reached
// through run_search, its public caller): a checkpoint made with these
// settings is replayed, anything else is ignored with a warning and the
// search starts afresh. Either way the search must finish, and what it
// reports must be sane: every candidate trained and scored with an accuracy
// in [0, 1] (a replayed candidate takes the checkpoint's accuracy).
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "fuzz_search_fixture.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using thor::fuzz::finding;
  static const std::string path = (thor::fuzz::scratch() / "checkpoint.json").string();
  static const thor::fuzz::CheckpointSearch search(path);
  thor::fuzz::write_bytes(path, data, size);
  try {
    const thor::search::SearchResult r = search.run();
    if (r.trained != search.options.candidates)
      finding("search trained " + std::to_string(r.trained) + " candidates, expected " +
              std::to_string(search.options.candidates));
    for (const auto& c : r.candidates)
      if (c.verdict.feasible && !(c.accuracy >= 0.0 && c.accuracy <= 1.0))
        finding("candidate " + std::to_string(c.id) + " has accuracy " +
                std::to_string(c.accuracy) + " (replayed: " + (r.resumed ? "yes" : "no") + ")");
  } catch (const std::exception& e) {
    finding("run_search threw on a checkpoint: " + thor::fuzz::type_name(e) + ": " + e.what());
  }
  return 0;
}
