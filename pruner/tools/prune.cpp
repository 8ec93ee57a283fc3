// prune: energy-aware channel pruning of a recipe's model down to an energy
// budget, with the Estimator as the cost oracle (paper section 4.3).
#include <iostream>

#include "thor/cli.hpp"
#include "thor/cluster.hpp"
#include "thor/pruner/options.hpp"
#include "thor/pruner/pruner.hpp"
#include "thor/pruner/strategy.hpp"
#include "thor/recipe.hpp"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  return thor::cli::run("prune", [&]() -> int {
    po::options_description opts("Options");
    std::string recipe_path, output, data_root, meter;
    opts.add_options()("recipe", po::value(&recipe_path)->required(),
                       "recipe YAML with model, data, train and prune sections")(
        "output", po::value(&output),
        "output folder (default: the recipe's `output`, else out/<name>)")(
        "data-root", po::value(&data_root), "dataset folder (overrides the recipe's data.root)")(
        "meter", po::value(&meter),
        "energy meter: auto, rapl, nvml, jetson, battery, cpu-model (overrides the recipe)")(
        "no-plots", "do not draw PNG plots")("quiet", "no progress lines on stderr")(
        "dry-run",
        "check everything, say what would happen and forecast its wall time and energy; "
        "write nothing");
    po::variables_map vm;
    if (!thor::cli::parse(argc, argv, "prune",
                          "prune --recipe R.yaml [--output DIR] [--data-root DIR] [--meter M]",
                          opts, vm))
      return thor::cli::kExitOk;
    thor::Recipe recipe = thor::load_recipe(recipe_path);
    thor::pruner::PruneOptions options = thor::pruner::parse_prune_options(recipe);
    if (!output.empty()) recipe.output = output;
    if (!data_root.empty()) recipe.data.root = data_root;
    if (!meter.empty()) recipe.meter = meter;
    if (vm.count("no-plots")) options.plots = false;
    if (vm.count("quiet")) options.progress = false;
    if (vm.count("dry-run")) {
      std::cout << thor::pruner::dry_run_pruning(recipe, options).report();
      return thor::cli::kExitOk;
    }
    const thor::pruner::PruneResult result = thor::pruner::run_pruning(recipe, options);
    if (!thor::Cluster::world().root()) return thor::cli::kExitOk;  // rank 0 reports
    std::cout << result.full_report();
    return thor::cli::kExitOk;
  });
}
