// Runs a whole search job — profile, oracle, search, outputs — with the
// user's "hill-climb" strategy: a small CNN space on generated 28x28 images,
// profiled with thor's synthetic `sim` meter so that the example runs in
// seconds anywhere. For a real device, give your own recipe (meter: auto)
// and the same two calls: register the strategy, then run_search_job.
#include <filesystem>
#include <iostream>

#include "hill_climb.hpp"
#include "thor/io.hpp"
#include "thor/search/job.hpp"

namespace {

// A recipe as a user writes one (recipes/README.md); the search section
// names the strategy registered below.
const char* kRecipe = R"(name: custom_strategy_example
meter: sim
data: {dataset: random, train_limit: 256, test_limit: 64}
model:
  input: [1, 28, 28]
  batch_size: 8
  layers: [{conv: {out: 4, kernel: 3, padding: 1}}, relu, {maxpool: 2}, flatten, {linear: {out: 10}}]
train: {iterations: 100, seed: 1}
profile: {max_points: 4, iterations: 1, repeats: 1, warmup: 0, min_window: 0, min_warmup: 0, anchors: 1}
measure: {iterations: 2, repeats: 1, warmup: 0, min_window: 0, min_warmup: 0}
search:
  strategy: hill-climb
  budget_joules: 0.025  # for the 100-iteration run: about half the space fits
  candidates: 6
  batch: 2
  threads: 2
  proxy: {iterations: 10, train_limit: 256, eval_samples: 64}
  space:
    input: [1, 28, 28]
    classes: 10
    batch_size: [8]
    conv_blocks: [1, 2]
    channels: [2, 4, 8]
    kernels: [3]
    pooling: [max]
    linear_layers: [0, 1]
    linear_widths: [4, 8]
)";

}  // namespace

int main() {
  namespace fs = std::filesystem;
  register_hill_climb();  // before the job looks the strategy up by name

  const fs::path dir = fs::temp_directory_path() / "thor-custom-strategy-example";
  fs::remove_all(dir);
  thor::write_file_atomic((dir / "recipe.yaml").string(), kRecipe);

  thor::search::SearchJobOptions job;
  job.recipe_path = (dir / "recipe.yaml").string();
  job.output = (dir / "out").string();
  job.profile_path = (dir / "profile.json").string();  // made once, reused next time
  job.final_train = false;  // the winner is measured with the protocol only
  job.progress = false;
  const thor::search::SearchJobResult result = thor::search::run_search_job(job);
  std::cout << result.full_report();
  if (!result.search.best) {
    std::cerr << "no feasible candidate: " << result.message << "\n";
    return 1;
  }
  const auto& best = result.search.candidates[*result.search.best];
  std::cout << "custom strategy '" << result.search.strategy << "' found "
            << best.genome.to_string() << " with accuracy " << best.accuracy << " at "
            << best.verdict.joules << " J; outputs in " << result.output << "\n";
  return 0;
}
