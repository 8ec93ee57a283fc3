// Architecture YAML (architecture_from_yaml_text): every input loads or ends
// in one InputError naming the file; what loads is valid, so shape inference,
// FLOPs, the block split and the YAML round trip must all work on it.
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "thor/architecture.hpp"
#include "thor/layer_kind.hpp"

namespace {

using thor::Architecture;
using thor::fuzz::finding;

// A loaded architecture is valid: nothing below may throw.
void check_loaded(const Architecture& a) {
  try {
    const auto infos = a.infer();
    if (infos.size() != a.layers.size()) finding("infer(): one LayerInfo per layer expected");
    for (const auto& info : infos)
      if (!(info.train_flops >= 0) || info.params < 0) finding("infer(): negative FLOPs or params");
    (void)a.train_flops();
    (void)a.params();
    if (a.num_outputs() < 1) finding("num_outputs() < 1");
    const auto blocks = thor::split_blocks(a);
    if (blocks.empty()) finding("split_blocks(): no block for a valid network");
    for (const auto& b : blocks)
      if (b.key.empty() || b.features.empty()) finding("split_blocks(): a block without key");
    if (a.with_channels(a.channels()) != a) finding("with_channels(channels()) changed it");
    (void)a.summary();
    const std::string yaml = a.to_yaml();
    if (thor::architecture_from_yaml_text(yaml, "round-trip.yaml") != a)
      finding("to_yaml() does not parse back to the same architecture:\n" + yaml);
  } catch (const std::exception& e) {
    finding("a loaded architecture fails later: " + thor::fuzz::type_name(e) + ": " + e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Architecture a;
  if (thor::fuzz::loads_or_input_error(
          [&] { a = thor::architecture_from_yaml_text(text, "fuzz.yaml"); }, "fuzz.yaml"))
    check_loaded(a);
  return 0;
}
