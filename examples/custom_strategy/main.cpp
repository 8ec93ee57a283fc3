// Runs a tiny search with the "hill-climb" strategy: a small CNN space on
// 8x8 random images, profiled with thor's synthetic `sim` meter so that the
// example runs in seconds anywhere. With a real recipe, register the
// strategy the same way and call thor::search::run_search_job
// (thor/search/job.hpp) with options.strategy = "hill-climb", or build the
// `search` program with it linked in (see docs/extending.md).
#include <iostream>

#include "hill_climb.hpp"
#include "thor/profile_cache.hpp"
#include "thor/search/search.hpp"

int main() {
  using namespace thor::search;
  register_hill_climb();

  SearchSpace space;
  space.input = {1, 8, 8};
  space.classes = 2;
  space.batch_sizes = {8};
  space.conv_blocks = {1, 2};
  space.channels = {2, 4, 8};
  space.kernels = {3};
  space.pooling = {"max"};
  space.linear_layers = {0, 1};
  space.linear_widths = {4, 8};
  space.validate();

  // A profile of every structure of the space at its largest channel counts
  // (path "": nothing cached; give a file to reuse it on the next run).
  thor::register_sim_meter();
  thor::ProfileRequest request;
  for (const Genome& g : space.skeletons()) request.architectures.push_back(space.build(g));
  request.profiler.measure.iterations = 1;
  request.profiler.measure.repeats = 1;
  request.profiler.measure.warmup = 0;
  request.profiler.max_points = 4;
  request.profiler.progress = false;
  auto meter = thor::make_meter("sim", request.meter_options);
  const thor::Estimator estimator(thor::ensure_profile(request, *meter).profile);

  // A budget between the cheapest and the costliest network of the space.
  OracleOptions budget;
  budget.iterations = 100;
  budget.budget_joules = 1e30;
  const SpaceScan scan = Oracle(estimator, space, budget).scan(1'000'000, 1, 1);
  budget.budget_joules = 0.5 * (scan.cheapest_joules + scan.costliest_joules);
  const Oracle oracle(estimator, space, budget);

  const thor::Dataset train = thor::random_dataset({1, 8, 8}, 256, 2, 1);
  const thor::Dataset test = thor::random_dataset({1, 8, 8}, 64, 2, 2);
  SearchOptions options;
  options.strategy = "hill-climb";
  options.oracle = budget;
  options.candidates = 6;
  options.batch = 2;
  options.threads = 2;
  options.proxy.iterations = 10;
  options.proxy.train_limit = 256;
  options.proxy.eval_samples = 64;
  const SearchResult result = run_search(
      oracle, make_training_evaluator(train, test, options.proxy, options.train), options);
  if (!result.best) {
    std::cerr << "no feasible candidate: " << result.message << "\n";
    return 1;
  }
  const Candidate& best = result.candidates[*result.best];
  std::cout << result.full_report() << "custom strategy '" << result.strategy << "' found "
            << best.genome.to_string() << " with accuracy " << best.accuracy << " at "
            << best.verdict.joules << " J (budget " << budget.budget_joules << " J)\n";
  return 0;
}
