#include "thor/search/search.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "thor/cluster.hpp"
#include "thor/format.hpp"
#include "thor/io.hpp"
#include "thor/parallel.hpp"
#include "thor/progress.hpp"

namespace thor::search {

void ProxyOptions::validate() const {
  const FieldRules f("search.proxy");
  f.count("iterations", iterations, 1, 1'000'000'000);
  f.require(train_limit != 0, "train_limit", "0",
            "expected a positive count, or -1 for every sample");
  f.require(eval_samples != 0, "eval_samples", "0",
            "expected a positive count, or -1 for every sample");
}

void SearchOptions::validate() const {
  const FieldRules f("search");
  f.require(!strategy.empty(), "strategy", "''", "expected a strategy name");
  // The oracle's and the strategy's keys sit beside these in a recipe's `search:`.
  f.nested("", [&] { oracle.validate(); });
  f.nested("", [&] { strategy_options.validate(); });
  f.nested("proxy", [&] { proxy.validate(); });
  f.count("candidates", candidates, 1, 1'000'000);
  f.count("batch", batch, 1, 100'000);
  f.count("threads", threads, 1, 1024);
  f.count("max_proposals_per_candidate", max_proposals_per_candidate, 1);
}

std::string to_string(SearchStatus s) {
  switch (s) {
    case SearchStatus::ok:
      return "ok";
    case SearchStatus::exhausted:
      return "exhausted";
    case SearchStatus::no_feasible:
      return "no_feasible";
  }
  return "?";
}

uint64_t candidate_seed(uint64_t seed, uint64_t id) {
  // splitmix64 over the pair: neighbouring ids get unrelated seeds.
  uint64_t z = seed * 0x9e3779b97f4a7c15ULL + id + 0x632be59bd9b4e019ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return (z ^ (z >> 31)) & 0x7fffffffffffffffULL;
}

Evaluator make_training_evaluator(const Dataset& train, const Dataset& test,
                                  const ProxyOptions& proxy, const TrainOptions& train_options) {
  proxy.validate();
  // One shared subset, cut once: candidates only read it.
  std::shared_ptr<const Dataset> subset;
  if (proxy.train_limit > 0 && proxy.train_limit < train.size())
    subset = std::make_shared<const Dataset>(train.head(proxy.train_limit));
  const Dataset* data = subset ? subset.get() : &train;
  TrainOptions opts = train_options;
  opts.iterations = proxy.iterations;
  opts.record_every = 0;
  const int64_t eval = proxy.eval_samples;
  return [subset, data, &test, opts, eval](const Architecture& arch, uint64_t seed) {
    // Each task trains on its own core: one intra-op thread, so candidates
    // running side by side do not oversubscribe, and denormals flushed as in
    // the measurement protocol.
    const TorchThreadsGuard one_thread(1);
    set_flush_denormal(true);
    Model model(arch, seed);
    TrainOptions o = opts;
    o.seed = seed;
    model.train(*data, o);
    return model.accuracy(test, eval);
  };
}

std::string SearchResult::one_line() const {
  std::ostringstream s;
  s << strategy << ": " << trained << " trained in " << generations << " generations, ";
  if (best) {
    const auto& b = candidates[*best];
    s << "best accuracy " << std::fixed << std::setprecision(4) << b.accuracy << " at "
      << joules_digits(b.verdict.joules) << " J estimated (" << b.genome.to_string() << ")";
  } else {
    s << "no feasible candidate";
  }
  return s.str();
}

std::string SearchResult::full_report() const {
  std::ostringstream s;
  s << one_line() << "\n";
  if (!message.empty()) s << message << "\n";
  s << "Pareto front (accuracy vs estimated energy of the full run):\n";
  s << std::setw(6) << "id" << std::setw(10) << "accuracy" << std::setw(12) << "joules"
    << std::setw(10) << "± std"
    << "  architecture\n";
  for (size_t i : front) {
    const auto& c = candidates[i];
    s << std::setw(6) << c.id << std::setw(10) << std::fixed << std::setprecision(4) << c.accuracy
      << std::setw(12) << joules_digits(c.verdict.joules) << std::setw(10)
      << joules_digits(c.verdict.std) << "  " << c.genome.to_string()
      << (best && *best == i ? "  <- best" : "") << "\n";
  }
  return s.str();
}

namespace {

// What a checkpoint must match for its results to be replayed.
nlohmann::json fingerprint(const Oracle& oracle, const SearchOptions& o) {
  return {{"strategy", o.strategy},
          {"seed", o.seed},
          {"population", o.strategy_options.population},
          {"sample", o.strategy_options.sample},
          {"crossover", o.strategy_options.crossover},
          {"budget_joules", o.oracle.budget_joules},
          {"confidence", o.oracle.confidence},
          {"iterations", o.oracle.iterations},
          {"batch", o.batch},
          {"proxy", {o.proxy.iterations, o.proxy.train_limit, o.proxy.eval_samples}},
          {"train", {o.train.optimizer, o.train.lr, o.train.momentum, o.train.weight_decay}},
          {"space", oracle.space().to_json()}};
}

struct Replay {
  Genome genome;
  double accuracy = -1.0;
  double seconds = 0.0;
};

std::map<uint64_t, Replay> load_checkpoint(const std::string& path, const nlohmann::json& want,
                                           bool progress) {
  std::map<uint64_t, Replay> out;
  // Rank 0's checkpoint is the one every rank replays (docs/cluster.md).
  const Cluster& cluster = Cluster::world();
  const bool here = !path.empty() && std::filesystem::exists(path);
  const std::string text = cluster.broadcast(cluster.root() && here ? read_file(path) : "");
  if (text.empty()) return out;
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.at("fingerprint") != want) {
      if (progress)
        thor::progress().say(path + " was made with other settings; starting a new search");
      return out;
    }
    for (const auto& c : j.at("candidates")) {
      Replay r;
      r.genome = Genome::from_json(c.at("genome"), path);
      r.accuracy = c.at("accuracy").get<double>();
      r.seconds = c.at("seconds").get<double>();
      if (!(r.accuracy >= 0.0 && r.accuracy <= 1.0) || !(r.seconds >= 0.0))
        throw InputError("candidate " + c.at("id").dump() +
                         ": expected an accuracy in [0, 1] and seconds >= 0");
      out[c.at("id").get<uint64_t>()] = r;
    }
  } catch (const std::exception& e) {
    if (progress)
      thor::progress().say("warning: ignoring unreadable checkpoint " + path + ": " + e.what());
    out.clear();
  }
  return out;
}

void save_checkpoint(const std::string& path, const nlohmann::json& fp,
                     const std::vector<Candidate>& all) {
  if (path.empty() || !Cluster::world().root()) return;
  nlohmann::json j;
  j["version"] = 1;
  j["fingerprint"] = fp;
  j["candidates"] = nlohmann::json::array();
  for (const auto& c : all)
    if (c.trained)
      j["candidates"].push_back({{"id", c.id},
                                 {"genome", c.genome.to_json()},
                                 {"accuracy", c.accuracy},
                                 {"seconds", c.seconds}});
  write_file_atomic(path, j.dump(1) + "\n");
}

}  // namespace

namespace {

// The status line after each generation: candidates trained of the
// target, with the generation's figures as its detail.
void show_progress(ProgressPhase& phase, const SearchResult& res, int64_t proposals,
                   int64_t feasible_proposals, int64_t fresh, double el) {
  double best = -1;
  for (const auto& c : res.candidates)
    if (c.scored()) best = std::max(best, c.accuracy);
  phase.update(
      res.trained,
      strf("gen %lld, best accuracy %.4f, %.0f%% of %lld proposed feasible, %.1f cand/min%s",
           static_cast<long long>(res.generations - 1), best,
           100.0 * static_cast<double>(feasible_proposals) /
               static_cast<double>(std::max<int64_t>(1, proposals)),
           static_cast<long long>(proposals), el > 0 ? 60.0 * static_cast<double>(fresh) / el : 0.0,
           res.resumed ? strf(", %lld resumed", static_cast<long long>(res.resumed)).c_str() : ""));
}

// The most accurate scored candidate (ties: the cheaper one), if any.
std::optional<size_t> most_accurate(const std::vector<Candidate>& candidates) {
  std::optional<size_t> best;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const auto& c = candidates[i];
    if (!c.scored()) continue;
    if (!best) {
      best = i;
      continue;
    }
    const auto& b = candidates[*best];
    if (c.accuracy > b.accuracy ||
        (c.accuracy == b.accuracy && c.verdict.joules < b.verdict.joules))
      best = i;
  }
  return best;
}

// Trains the round's new feasible candidates side by side, one core each,
// the costliest (by training FLOPs, a proxy for time) first so that no
// core idles at the end of a round. Each writes only its own slot, so the
// order of work does not change the results.
void train_round(std::vector<Candidate>& round, std::vector<size_t>& to_train, size_t offset,
                 std::map<Genome, size_t>& scored, const Oracle& oracle, const Evaluator& evaluate,
                 int threads) {
  // Training time follows the work, so the candidates' training FLOPs are
  // the cost that orders and balances them (energy estimates also carry the
  // device's static power, and the sim meter's are synthetic).
  std::vector<double> flops(round.size(), 0.0);
  for (size_t k : to_train) flops[k] = oracle.space().build(round[k].genome).train_flops();
  std::stable_sort(to_train.begin(), to_train.end(),
                   [&](size_t a, size_t b) { return flops[a] > flops[b]; });
  // Across the ranks (each candidate's seed fixes its result, so any number
  // of ranks gives the same accuracies); each result is accuracy and seconds.
  const auto results = distribute(to_train.size(), threads, [&](size_t k) {
    const Candidate& c = round[to_train[k]];
    const auto start = std::chrono::steady_clock::now();
    double r[2] = {evaluate(oracle.space().build(c.genome), c.seed), 0.0};
    r[1] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return std::string(reinterpret_cast<const char*>(r), sizeof r);
  });
  for (size_t k = 0; k < to_train.size(); ++k) {
    Candidate& c = round[to_train[k]];
    double r[2];
    results[k].copy(reinterpret_cast<char*>(r), sizeof r);
    c.accuracy = r[0];
    c.seconds = r[1];
    c.trained = true;
  }
  // Duplicates within this round take their twin's fresh accuracy.
  for (auto& c : round)
    if (c.reused && c.accuracy < 0) c.accuracy = round[scored[c.genome] - offset].accuracy;
}

}  // namespace

SearchResult run_search(const Oracle& oracle, const Evaluator& evaluate,
                        const SearchOptions& options) {
  options.validate();
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  StrategyContext ctx;
  ctx.space = &oracle.space();
  ctx.oracle = &oracle;
  ctx.options = options.strategy_options;
  ctx.options.seed = options.seed;
  auto strategy = make_strategy(options.strategy, ctx);

  const nlohmann::json fp = fingerprint(oracle, options);
  const auto replay = load_checkpoint(options.checkpoint, fp, options.progress);

  SearchResult res;
  res.strategy = options.strategy;
  std::map<Genome, size_t> scored;  // genome → first scored candidate with it
  int64_t proposals = 0, feasible_proposals = 0, fresh = 0;
  ProgressPhase phase(options.strategy + " search: candidates", options.candidates,
                      options.progress);
  const int64_t max_proposals = options.max_proposals_per_candidate * options.candidates;
  while (res.trained < options.candidates) {
    const auto want =
        static_cast<size_t>(std::min(options.batch, options.candidates - res.trained));
    std::vector<Genome> genomes = strategy->propose(want);
    if (genomes.size() > want) genomes.resize(want);  // the contract says at most n
    if (genomes.empty()) {
      res.status = SearchStatus::exhausted;
      res.message = "strategy '" + options.strategy + "' has nothing more to propose";
      break;
    }
    std::vector<Candidate> round;
    std::vector<size_t> to_train;
    for (const Genome& g : genomes) {
      if (!oracle.space().contains(g))
        throw std::logic_error("strategy '" + options.strategy +
                               "' proposed a point outside the space: " + g.to_string());
      Candidate c;
      c.id = res.candidates.size() + round.size();
      c.generation = res.generations;
      c.genome = g;
      c.seed = candidate_seed(options.seed, c.id);
      c.verdict = oracle.check(g);
      ++proposals;
      if (c.verdict.feasible) {
        ++feasible_proposals;
        auto prev = scored.find(g);
        auto rep = replay.find(c.id);
        if (prev != scored.end()) {
          const auto& p = prev->second < res.candidates.size()
                              ? res.candidates[prev->second]
                              : round[prev->second - res.candidates.size()];
          c.reused = true;
          c.accuracy = p.accuracy;
        } else if (rep != replay.end() && rep->second.genome == g) {
          c.trained = true;
          c.accuracy = rep->second.accuracy;
          c.seconds = rep->second.seconds;
          ++res.resumed;
        } else {
          to_train.push_back(round.size());
        }
        if (prev == scored.end()) scored[g] = res.candidates.size() + round.size();
      }
      round.push_back(std::move(c));
    }
    train_round(round, to_train, res.candidates.size(), scored, oracle, evaluate, options.threads);
    fresh += static_cast<int64_t>(to_train.size());
    // Only real training runs count toward `candidates`: a strategy that
    // re-proposes known points gets their accuracy for free but no extra budget.
    for (const auto& c : round) {
      res.trained += c.trained ? 1 : 0;
      res.reused += c.reused ? 1 : 0;
    }
    strategy->observe(round);
    for (auto& c : round) res.candidates.push_back(std::move(c));
    ++res.generations;
    save_checkpoint(options.checkpoint, fp, res.candidates);

    show_progress(phase, res, proposals, feasible_proposals, fresh,
                  std::chrono::duration<double>(clock::now() - t0).count());
    if (proposals >= max_proposals && res.trained < options.candidates) {
      res.status = SearchStatus::exhausted;
      res.message = "strategy '" + options.strategy + "' proposed " + std::to_string(proposals) +
                    " points but only " + std::to_string(feasible_proposals) +
                    " were feasible; stopped";
      break;
    }
  }
  res.best = most_accurate(res.candidates);
  res.front = pareto_front(res.candidates);
  if (!res.best) {
    res.status = SearchStatus::no_feasible;
    if (res.message.empty()) res.message = "no feasible candidate was found";
  }
  res.seconds = std::chrono::duration<double>(clock::now() - t0).count();
  return res;
}

SearchRecipe parse_search_recipe(const Recipe& recipe) {
  const YamlCursor& c = recipe.search;
  if (!c.node.IsDefined() || c.node.IsNull())
    throw InputError(recipe.path +
                     ": no 'search:' section (a search space and settings; see docs/search.md)");
  c.allow_only({"budget_joules", "confidence", "strategy", "seed", "candidates", "batch", "threads",
                "population", "sample", "crossover", "proxy", "space", "scan_points"});
  SearchRecipe r;
  auto& o = r.options;
  o.train = recipe.train;
  o.oracle.iterations = recipe.train.iterations;
  r.budget_set = c.has("budget_joules");
  o.oracle.budget_joules =
      c.get_double("budget_joules", o.oracle.budget_joules);  // rejects text, nan and inf
  o.oracle.confidence = c.get_double("confidence", o.oracle.confidence);
  o.strategy = c.get_string("strategy", o.strategy);
  o.seed = c.get_uint("seed", o.seed);
  o.candidates = c.get_int("candidates", o.candidates);
  o.batch = c.get_int("batch", o.batch);
  o.threads =
      c.get_int32("threads", static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  o.strategy_options.population = c.get_int("population", o.strategy_options.population);
  // The default tournament shrinks with a small population.
  o.strategy_options.sample =
      c.get_int("sample", std::min(o.strategy_options.sample, o.strategy_options.population));
  o.strategy_options.crossover = c.get_double("crossover", o.strategy_options.crossover);
  if (c.has("proxy")) {
    const YamlCursor p = c.child("proxy");
    p.allow_only({"iterations", "train_limit", "eval_samples"});
    o.proxy.iterations = p.get_int("iterations", o.proxy.iterations);
    o.proxy.train_limit = p.get_int("train_limit", o.proxy.train_limit);
    o.proxy.eval_samples = p.get_int("eval_samples", o.proxy.eval_samples);
  }
  r.scan_points = c.get_uint("scan_points", r.scan_points);
  if (!c.has("space"))
    c.fail(
        "missing 'space' (the choices: conv_blocks, channels, kernels, ...; see docs/search.md)");
  r.space = parse_space(c.child("space"));
  c.validate_with([&] { r.validate(); });
  return r;
}

void SearchRecipe::validate() const {
  const FieldRules f("search");
  // Strategies registered later (a program's own) are checked when the search starts.
  if (!strategies().contains(options.strategy))
    f.fail("strategy", "unknown strategy '" + options.strategy +
                           "'; registered strategies: " + strategies().known());
  SearchOptions checked = options;
  // A budget left to the command line (--budget-joules) is checked there.
  if (!budget_set) checked.oracle.budget_joules = 1.0;
  checked.validate();
  f.require(scan_points >= 1 && scan_points <= 1'000'000'000, "scan_points",
            std::to_string(scan_points), "expected a value in [1, 1000000000]");
}

}  // namespace thor::search
