#pragma once
// What the harnesses and fuzz_seeds agree on: the networks a profile is made
// for, the journal header, the search and the prune run whose checkpoint and
// resume state are fuzzed. A seed made by fuzz_seeds matches these, so that
// mutations start past the "made with other settings" checks.
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "thor/architecture.hpp"
#include "thor/profiler.hpp"

namespace thor::fuzz {

/// A small CNN whose blocks are an input, a hidden and an output kind.
inline Architecture tiny_architecture() {
  return architecture_from_yaml_text(
      "input: [1, 8, 8]\n"
      "batch_size: 4\n"
      "layers:\n"
      "  - conv: {out: 4, kernel: 3, padding: 1}\n"
      "  - relu\n"
      "  - maxpool: 2\n"
      "  - flatten\n"
      "  - linear: {out: 6}\n"
      "  - relu\n"
      "  - linear: {out: 2}\n",
      "fuzz_fixtures.hpp");
}

/// The profiler's settings for the seed profile: one iteration per point.
inline ProfilerOptions tiny_profiler_options() {
  ProfilerOptions o;
  o.measure.iterations = 1;
  o.measure.warmup = 0;
  o.measure.repeats = 1;
  o.max_points = 4;
  o.min_points = 3;
  o.anchors = 2;
  o.progress = false;
  return o;
}

/// The first line the profiler writes to its journal (see
/// estimator/src/profiler.cpp, open_journal) under tiny_profiler_options()
/// and the sim meter.
inline nlohmann::json journal_header() {
  const MeasureOptions mo = tiny_profiler_options().measure;
  const TrainOptions train;
  return {{"journal", 2},
          {"meter", "sim"},
          {"iterations", mo.iterations},
          {"min_window_seconds", mo.min_window_seconds},
          {"min_warmup_seconds", mo.min_warmup_seconds},
          {"repeats", mo.repeats},
          {"warmup", mo.warmup},
          {"threads", mo.threads},
          {"device", mo.device},
          {"data", kStandIn},
          {"optimizer", train.optimizer},
          {"lr", train.lr}};
}

}  // namespace thor::fuzz
