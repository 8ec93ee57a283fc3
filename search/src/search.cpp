#include "format.hpp"
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
#include <sstream>
#include <thread>

#include "parallel.hpp"
#include "thor/io.hpp"

namespace thor::search {

void ProxyOptions::validate() const {
  if (iterations < 1) throw InputError("search.proxy.iterations = " + std::to_string(iterations) + ": expected >= 1");
  if (train_limit == 0) throw InputError("search.proxy.train_limit = 0: expected > 0, or < 0 for all samples");
  if (eval_samples == 0) throw InputError("search.proxy.eval_samples = 0: expected > 0, or < 0 for all samples");
}

void SearchOptions::validate() const {
  oracle.validate();
  strategy_options.validate();
  proxy.validate();
  if (strategy.empty()) throw InputError("search.strategy: expected a strategy name");
  if (candidates < 1) throw InputError("search.candidates = " + std::to_string(candidates) + ": expected >= 1");
  if (batch < 1) throw InputError("search.batch = " + std::to_string(batch) + ": expected >= 1");
  if (threads < 1 || threads > 1024)
    throw InputError("search.threads = " + std::to_string(threads) + ": expected in [1, 1024]");
  if (max_proposals_per_candidate < 1)
    throw InputError("search.max_proposals_per_candidate = " + std::to_string(max_proposals_per_candidate) +
                     ": expected >= 1");
}

std::string to_string(SearchStatus s) {
  switch (s) {
    case SearchStatus::ok: return "ok";
    case SearchStatus::exhausted: return "exhausted";
    case SearchStatus::no_feasible: return "no_feasible";
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

Evaluator make_training_evaluator(const Dataset& train, const Dataset& test, const ProxyOptions& proxy,
                                  const TrainOptions& train_options) {
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
    set_torch_threads(1);
    set_flush_denormal(true);
    Model model(arch, seed);
    TrainOptions o = opts;
    o.seed = seed;
    model.train(*data, o);
    return model.accuracy(test, eval);
  };
}

using detail::jtext;

std::string SearchResult::one_line() const {
  std::ostringstream s;
  s << strategy << ": " << trained << " trained in " << generations << " generations, ";
  if (best) {
    const auto& b = candidates[*best];
    s << "best accuracy " << std::fixed << std::setprecision(4) << b.accuracy << " at " << jtext(b.verdict.joules)
      << " J estimated (" << b.genome.to_string() << ")";
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
  s << std::setw(6) << "id" << std::setw(10) << "accuracy" << std::setw(12) << "joules" << std::setw(10) << "± std"
    << "  architecture\n";
  for (size_t i : front) {
    const auto& c = candidates[i];
    s << std::setw(6) << c.id << std::setw(10) << std::fixed << std::setprecision(4) << c.accuracy << std::setw(12)
      << jtext(c.verdict.joules) << std::setw(10) << jtext(c.verdict.std) << "  " << c.genome.to_string()
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

std::map<uint64_t, Replay> load_checkpoint(const std::string& path, const nlohmann::json& want, bool progress) {
  std::map<uint64_t, Replay> out;
  if (path.empty() || !std::filesystem::exists(path)) return out;
  try {
    const auto j = nlohmann::json::parse(read_file(path));
    if (j.at("fingerprint") != want) {
      if (progress)
        std::cerr << "search: " << path << " was made with other settings; starting a new search\n";
      return out;
    }
    for (const auto& c : j.at("candidates")) {
      Replay r;
      r.genome = Genome::from_json(c.at("genome"), path);
      r.accuracy = c.at("accuracy").get<double>();
      r.seconds = c.at("seconds").get<double>();
      out[c.at("id").get<uint64_t>()] = r;
    }
  } catch (const std::exception& e) {
    if (progress) std::cerr << "search: warning: ignoring unreadable checkpoint " << path << ": " << e.what() << "\n";
    out.clear();
  }
  return out;
}

void save_checkpoint(const std::string& path, const nlohmann::json& fp, const std::vector<Candidate>& all) {
  if (path.empty()) return;
  nlohmann::json j;
  j["version"] = 1;
  j["fingerprint"] = fp;
  j["candidates"] = nlohmann::json::array();
  for (const auto& c : all)
    if (c.trained) j["candidates"].push_back({{"id", c.id}, {"genome", c.genome.to_json()}, {"accuracy", c.accuracy},
                                              {"seconds", c.seconds}});
  write_file_atomic(path, j.dump(1) + "\n");
}

std::string clock_text(double s) {
  std::ostringstream o;
  const auto m = static_cast<int64_t>(s / 60);
  o << m << "m" << std::setw(2) << std::setfill('0') << static_cast<int64_t>(s - 60.0 * static_cast<double>(m)) << "s";
  return o.str();
}

}  // namespace

SearchResult run_search(const Oracle& oracle, const Evaluator& evaluate, const SearchOptions& options) {
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
  const int64_t max_proposals = options.max_proposals_per_candidate * options.candidates;
  while (res.trained < options.candidates) {
    const auto want = static_cast<size_t>(std::min(options.batch, options.candidates - res.trained));
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
        throw std::logic_error("strategy '" + options.strategy + "' proposed a point outside the space: " +
                               g.to_string());
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
          const auto& p = prev->second < res.candidates.size() ? res.candidates[prev->second] : round[prev->second - res.candidates.size()];
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
    // Train the new feasible candidates side by side, one core each, the
    // costliest (by estimated energy, a proxy for time) first so that no
    // core idles at the end of a round. Each writes only its own slot, so
    // the order of work does not change the results.
    std::stable_sort(to_train.begin(), to_train.end(),
                     [&](size_t a, size_t b) { return round[a].verdict.joules > round[b].verdict.joules; });
    detail::parallel_queue(to_train.size(), options.threads, [&](size_t k) {
      Candidate& c = round[to_train[k]];
      const auto start = clock::now();
      c.accuracy = evaluate(oracle.space().build(c.genome), c.seed);
      c.seconds = std::chrono::duration<double>(clock::now() - start).count();
      c.trained = true;
    });
    // Duplicates within this round take their twin's fresh accuracy.
    for (auto& c : round)
      if (c.reused && c.accuracy < 0) c.accuracy = round[scored[c.genome] - res.candidates.size()].accuracy;
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

    if (options.progress) {
      double best = -1;
      for (const auto& c : res.candidates)
        if (c.scored()) best = std::max(best, c.accuracy);
      const double el = std::chrono::duration<double>(clock::now() - t0).count();
      std::cerr << "search: " << options.strategy << " gen " << res.generations - 1 << " | trained " << res.trained
                << "/" << options.candidates << " | best accuracy " << std::fixed << std::setprecision(4) << best
                << " | feasible " << std::setprecision(0) << 100.0 * feasible_proposals / std::max<int64_t>(1, proposals)
                << "% of " << proposals << " proposed | " << std::setprecision(1)
                << (el > 0 ? 60.0 * static_cast<double>(fresh) / el : 0.0) << " cand/min | " << clock_text(el)
                << (res.resumed ? " | " + std::to_string(res.resumed) + " resumed" : "") << std::endl;
    }
    if (proposals >= max_proposals && res.trained < options.candidates) {
      res.status = SearchStatus::exhausted;
      res.message = "strategy '" + options.strategy + "' proposed " + std::to_string(proposals) +
                    " points but only " + std::to_string(feasible_proposals) + " were feasible; stopped";
      break;
    }
  }
  for (size_t i = 0; i < res.candidates.size(); ++i) {
    const auto& c = res.candidates[i];
    if (!c.scored()) continue;
    if (!res.best) {
      res.best = i;
      continue;
    }
    const auto& b = res.candidates[*res.best];
    if (c.accuracy > b.accuracy || (c.accuracy == b.accuracy && c.verdict.joules < b.verdict.joules)) res.best = i;
  }
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
    throw InputError(recipe.path + ": no 'search:' section (a search space and settings; see docs/search.md)");
  c.allow_only({"budget_joules", "confidence", "strategy", "seed", "candidates", "batch", "threads", "population",
                "sample", "crossover", "proxy", "space", "scan_points"});
  SearchRecipe r;
  auto& o = r.options;
  o.train = recipe.train;
  o.oracle.iterations = recipe.train.iterations;
  if (c.has("budget_joules")) {
    r.budget_set = true;
    const YamlCursor b = c.child("budget_joules");
    const double v = b.as_double();  // rejects text, nan and inf
    if (v <= 0) b.fail("expected a positive number of joules, got " + b.as_string());
    o.oracle.budget_joules = v;
  }
  o.oracle.confidence = c.get_double("confidence", 0.0, 0.0, 0.999999);
  o.strategy = c.get_string("strategy", o.strategy);
  o.seed = static_cast<uint64_t>(c.get_int("seed", 1, 0, std::numeric_limits<int64_t>::max()));
  o.candidates = c.get_int("candidates", o.candidates, 1, 1'000'000);
  o.batch = c.get_int("batch", o.batch, 1, 100'000);
  const int64_t hw = std::max(1u, std::thread::hardware_concurrency());
  o.threads = static_cast<int>(c.get_int("threads", hw, 1, 1024));
  o.strategy_options.population = c.get_int("population", o.strategy_options.population, 1, 1'000'000);
  o.strategy_options.sample = c.get_int("sample", std::min(o.strategy_options.sample, o.strategy_options.population),
                                        1, 1'000'000);
  if (o.strategy_options.sample > o.strategy_options.population)
    c.child("sample").fail("tournament size " + std::to_string(o.strategy_options.sample) +
                           " is larger than the population " + std::to_string(o.strategy_options.population));
  o.strategy_options.crossover = c.get_double("crossover", o.strategy_options.crossover, 0.0, 1.0);
  if (c.has("proxy")) {
    const YamlCursor p = c.child("proxy");
    p.allow_only({"iterations", "train_limit", "eval_samples"});
    o.proxy.iterations = p.get_int("iterations", o.proxy.iterations, 1, 1'000'000'000);
    o.proxy.train_limit = p.get_int("train_limit", o.proxy.train_limit, -1, 1'000'000'000);
    if (o.proxy.train_limit == 0) p.child("train_limit").fail("expected > 0, or -1 for every sample");
    o.proxy.eval_samples = p.get_int("eval_samples", o.proxy.eval_samples, -1, 1'000'000'000);
    if (o.proxy.eval_samples == 0) p.child("eval_samples").fail("expected > 0, or -1 for every sample");
  }
  r.scan_points = static_cast<uint64_t>(c.get_int("scan_points", static_cast<int64_t>(r.scan_points), 1, 1'000'000'000));
  if (!c.has("space")) c.fail("missing 'space' (the choices: conv_blocks, channels, kernels, ...; see docs/search.md)");
  r.space = parse_space(c.child("space"));
  return r;
}

}  // namespace thor::search
