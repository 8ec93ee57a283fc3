#pragma once
/// \file
/// The search loop: ask the strategy, filter with the oracle, train the
/// feasible candidates in parallel (oneTBB), tell the strategy, checkpoint.
/// Plus the recipe's `search:` section, the output folder and the final
/// full-length training and measurement of the winner.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "thor/dataset.hpp"
#include "thor/meter.hpp"
#include "thor/protocol.hpp"
#include "thor/recipe.hpp"
#include "thor/search/oracle.hpp"
#include "thor/search/space.hpp"
#include "thor/search/strategy.hpp"
#include "thor/train.hpp"

namespace thor::search {

/// The short training run that scores a candidate.
struct ProxyOptions {
  int64_t iterations = 100;     ///< optimizer steps per candidate
  int64_t train_limit = 2000;   ///< first samples of the training set used (< 0: all)
  int64_t eval_samples = 1000;  ///< test samples the accuracy is measured on (< 0: all)
  void validate() const;
};

struct SearchOptions {
  std::string strategy = "regularized-evolution";  ///< a registered strategy
  StrategyOptions strategy_options;                ///< population, sample, seed, ...
  OracleOptions oracle;                            ///< budget, confidence, full-run iterations
  int64_t candidates = 40;  ///< candidates trained before the search stops (re-proposed duplicates
                            ///< are answered from the first one and do not count)
  int64_t batch = 4;  ///< candidates asked per round ("generation"); independent of threads so
                      ///< that the same seed gives the same search on any machine
  int threads = 2;    ///< candidates trained at once (tbb::task_arena concurrency)
  uint64_t seed = 1;  ///< search seed: strategy Rng and per-candidate seeds derive from it
  ProxyOptions proxy;
  TrainOptions train;  ///< optimizer settings for proxy runs (iterations replaced by proxy's)
  /// Proposals allowed per trained candidate before the search gives up on a
  /// strategy that keeps proposing infeasible points.
  int64_t max_proposals_per_candidate = 50;
  std::string checkpoint;  ///< checkpoint JSON; "" for none. Resumed when it matches.
  bool progress = true;    ///< one line per generation on stderr
  /// Throws InputError naming the field, its value and the rule.
  void validate() const;
};

/// Scores one feasible candidate: accuracy in [0, 1]. Called concurrently
/// from several threads; must be thread-safe and deterministic in `seed`.
using Evaluator = std::function<double(const Architecture& arch, uint64_t seed)>;

/// The default evaluator: trains `arch` for proxy.iterations on the first
/// proxy.train_limit samples of `train` with one LibTorch thread and
/// denormals flushed, then measures top-1 accuracy on `test`. The datasets
/// must outlive the evaluator.
Evaluator make_training_evaluator(const Dataset& train, const Dataset& test,
                                  const ProxyOptions& proxy, const TrainOptions& train_options);

/// The seed of candidate `id` in a search seeded `seed` (splitmix64 of both).
uint64_t candidate_seed(uint64_t seed, uint64_t id);

enum class SearchStatus {
  ok,           ///< the requested number of candidates was trained
  exhausted,    ///< the strategy stopped proposing, or kept proposing infeasible points
  no_feasible,  ///< not a single feasible candidate was found
};
std::string to_string(SearchStatus s);

struct SearchResult {
  SearchStatus status = SearchStatus::ok;
  std::string message;
  std::string strategy;
  std::vector<Candidate> candidates;  ///< every proposal, feasible or not, by id
  std::optional<size_t> best;         ///< index of the most accurate feasible candidate
  std::vector<size_t> front;          ///< Pareto front (accuracy vs estimated joules)
  int64_t trained = 0;  ///< candidates trained (resumed ones included, reused duplicates not)
  int64_t reused = 0;   ///< duplicates answered with an earlier candidate's accuracy
  int64_t resumed = 0;  ///< candidates taken from the checkpoint
  int64_t generations = 0;
  double seconds = 0.0;
  /// "regularized-evolution: 40 trained, best 0.843 at 7120 J (budget 10000 J)".
  std::string one_line() const;
  /// A table of the front and the best candidate.
  std::string full_report() const;
};

/// Runs a search. The oracle holds the space and the budget; `evaluate`
/// scores feasible candidates (make_training_evaluator for real runs).
SearchResult run_search(const Oracle& oracle, const Evaluator& evaluate,
                        const SearchOptions& options);

/// Everything the `search:` section of a recipe sets.
struct SearchRecipe {
  SearchSpace space;
  SearchOptions options;
  bool budget_set = false;           ///< the recipe gave budget_joules
  uint64_t scan_points = 2'000'000;  ///< points the space scan examines at most, in [1, 1e9]
  /// The rules of the `search:` keys but the space's (options, the
  /// strategy among those registered, scan_points; the budget only when
  /// budget_set; parse_space checks the space). Throws FieldError naming the field by its recipe
  /// key under `search:` ("population", "proxy.iterations"), its value and the rule.
  void validate() const;
};
/// Parses recipe.search (and takes train settings and the full-run
/// iterations from recipe.train), then runs SearchRecipe::validate().
/// Errors name the file, line and key.
SearchRecipe parse_search_recipe(const Recipe& recipe);

/// The winner trained for the recipe's full run, its energy measured.
struct FinalRun {
  Genome genome;
  Architecture architecture;
  Verdict estimate;              ///< the oracle's view of the full run
  Measurement protocol;          ///< measure_training on the recipe's data and optimizer
  double protocol_joules = 0.0;  ///< protocol J/iter × full-run iterations
  bool trained = false;          ///< the real full run below was done
  double run_joules = 0.0;       ///< meter window around the real full training run
  double run_seconds = 0.0;
  double accuracy = -1.0;  ///< test accuracy after the full run
  double budget_joules = 0.0;
  int64_t iterations = 0;
  EnergyKind kind = EnergyKind::modelled;
  /// Whether the measured energy stayed within the budget: the metered full
  /// run when it was done, else the protocol figure.
  bool within_budget() const;
  double measured_joules() const { return trained ? run_joules : protocol_joules; }
  std::string full_report() const;
};

/// Measures `g`'s training energy with the protocol and, when `train_full`,
/// trains it on `train` for `train_options.iterations` inside a meter window
/// and measures its accuracy on `test`. `model_path` (if not empty) receives
/// the trained model as TorchScript.
FinalRun run_final(const Oracle& oracle, const Genome& g, EnergyMeter& meter,
                   const MeasureOptions& measure, const Dataset& train, const Dataset& test,
                   const TrainOptions& train_options, bool train_full,
                   const std::string& model_path);

/// Writes search.json, best.yaml, pareto.csv and search.png (gnuplot; a
/// warning on stderr and no PNG when gnuplot is missing) into `dir`.
/// `final_run` and `scan` are included when given. Returns the files written.
std::vector<std::string> write_outputs(const std::string& dir, const Oracle& oracle,
                                       const SearchResult& result, const SearchOptions& options,
                                       const SpaceScan* scan, const FinalRun* final_run);

}  // namespace thor::search
