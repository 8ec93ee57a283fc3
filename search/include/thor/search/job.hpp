#pragma once
/// \file
/// The whole search job of the `search` program as one library call, as
/// run_pruning is for `prune`:
///  1. load the recipe and apply the overrides (budget, confidence, strategy,
///     candidates, threads, seed, output, meter);
///  2. reuse the cached DeviceProfile when it was made under the same settings
///     and covers every structure of the space at its largest widths, else
///     profile (thor::ensure_profile);
///  3. scan the space with the oracle; an unreachable budget is an InputError;
///  4. run the search (and, with `compare`, the same search with another
///     strategy, same budget, seed and candidate count);
///  5. measure the winner with the protocol and, unless told not to, train it
///     for the full run inside a meter window;
///  6. write search.json, best.yaml, pareto.csv, ... (and model.pt).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "thor/dry_run.hpp"
#include "thor/recipe.hpp"
#include "thor/search/oracle.hpp"
#include "thor/search/search.hpp"

namespace thor::search {

/// What to run: a recipe with a `search:` section, and overrides of its
/// settings (an unset override keeps the recipe's value).
struct SearchJobOptions {
  /// The recipe file; ignored when `recipe` is set.
  std::string recipe_path;
  /// An already loaded recipe, used instead of reading `recipe_path`.
  std::optional<Recipe> recipe;
  /// Joules allowed for the whole training run; > 0 and finite. Required
  /// when the recipe has no search.budget_joules.
  std::optional<double> budget_joules;
  /// Feasible only when P(energy <= budget) >= this; in (0, 1).
  std::optional<double> confidence;
  /// A registered strategy ("" = the recipe's).
  std::string strategy;
  /// Candidates to train; >= 1.
  std::optional<int64_t> candidates;
  /// Candidates trained at once; in [1, 1024].
  std::optional<int> threads;
  /// Search seed (the same seed gives the same search).
  std::optional<uint64_t> seed;
  /// Results folder ("" = the recipe's output).
  std::string output;
  /// Device profile JSON, reused when it fits, else made and saved there
  /// ("" = the recipe's cache).
  std::string profile_path;
  /// Meter for profiling and the winner's measurement ("" = the recipe's).
  std::string meter;
  /// Also run this registered strategy with the same budget, seed and
  /// candidate count, into <output>/compare-<strategy> ("" = none).
  std::string compare;
  /// Train the winner for the recipe's full run (else the protocol only).
  bool final_train = true;
  /// Ignore checkpoints left in the output folder (and the comparison's).
  bool fresh = false;
  /// Progress lines on stderr ("search: ...").
  bool progress = true;
  /// Throws InputError naming the field, its value and the rule.
  void validate() const;
};

enum class SearchJobStatus {
  ok,           ///< the winner's measured energy is within the budget
  over_budget,  ///< the winner was measured over the budget
  no_winner,    ///< the search trained no feasible candidate (no final run)
};
std::string to_string(SearchJobStatus status);

struct SearchJobResult {
  SearchJobStatus status = SearchJobStatus::ok;
  std::string message;
  std::string recipe;        ///< the recipe's file
  std::string output;        ///< the results folder
  std::string meter;         ///< meter description
  SearchOptions options;     ///< the search's settings after the overrides
  std::string profile_path;  ///< the profile used (and cached)
  bool profile_reused = false;
  std::string profile_reason;  ///< ProfileDecision::reason
  int profile_measured = 0;    ///< variant networks measured (0 when reused)
  SpaceScan scan;              ///< what the budget leaves of the space
  std::string scan_text;       ///< "space: N points in S structures; P% within B J ..."
  SearchResult search;
  std::optional<SearchResult> comparison;  ///< with `compare`
  std::optional<FinalRun> final_run;       ///< absent when no_winner
  /// Files written into `output` (model.pt included when trained).
  std::vector<std::string> files;

  bool ok() const { return status == SearchJobStatus::ok; }
  /// e.g. "regularized-evolution: 40 trained, best 0.843 at 7120 J (budget
  /// 10000 J); measured 6890 J, within budget".
  std::string one_line() const;
  /// What the `search` program prints: the scan, the search's report, the
  /// comparison table, the winner's final run and the files written.
  std::string full_report() const;
};

/// Runs the whole job. Throws InputError for bad input (an unknown strategy,
/// a missing budget, an unreachable budget, ...) before the search starts;
/// returns no_winner, with the outputs written, when no feasible candidate
/// was trained.
SearchJobResult run_search_job(const SearchJobOptions& options);

/// `search --dry-run`: checks everything run_search_job would (recipe,
/// space, budget, data, meter, output, profile cache), times a few
/// iterations of the space's networks with the recipe's meter and forecasts
/// each step's wall time and the job's own energy. Writes nothing.
DryRunPlan dry_run_search_job(const SearchJobOptions& options);

}  // namespace thor::search
