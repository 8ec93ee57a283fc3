// prune's resume state (pruner/src/resume.cpp, .NAME.resume/state.json),
// reached through ResumeState, the internal class the pruning loop uses
// (its public caller, prune, trains a baseline first). A state made with
// these arguments is resumed, anything else is discarded; what a resumed
// state gives back (the baseline's figures, a round's accuracies) is read
// or ends in one InputError naming the state file, and a round's
// accuracies come one per candidate (the loop indexes them so).
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "fuzz_prune_fixture.hpp"
#include "resume.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using thor::fuzz::finding;
  using thor::fuzz::loads_or_input_error;
  static const thor::Recipe recipe = thor::fuzz::resume_recipe();
  static const thor::pruner::PruneOptions options;
  const thor::fuzz::ScopedChdir in_scratch(thor::fuzz::scratch().string());
  thor::fuzz::write_bytes(".out.resume/state.json", data, size);
  loads_or_input_error([&] {
    thor::pruner::detail::ResumeState state(recipe, options);
    if (state.has_baseline()) {
      thor::pruner::BaselineResult b;
      loads_or_input_error([&] { state.restore_baseline(b); }, "state.json");
    }
    const auto channels = thor::fuzz::resume_channels();
    for (const char* round : {"estimator", "flops"})
      loads_or_input_error(
          [&] {
            const auto done = state.round(round, channels);
            if (done && done->size() != channels.size())
              finding("a resumed round with " + std::to_string(done->size()) + " accuracies for " +
                      std::to_string(channels.size()) + " candidates");
          },
          "state.json");
  });
  return 0;
}
