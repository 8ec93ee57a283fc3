// The oracle, the strategies and the search loop on a tiny sim-profiled space.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "search_fixture.hpp"
#include "thor/io.hpp"

using namespace thor;
using namespace thor::search;
using namespace thor::search::testing;

namespace {

SearchOptions base_options(const OracleOptions& oo,
                           const std::string& strategy = "regularized-evolution") {
  SearchOptions o;
  o.strategy = strategy;
  o.oracle = oo;
  o.candidates = 16;
  o.batch = 4;
  o.threads = 2;
  o.seed = 11;
  o.strategy_options.population = 6;
  o.strategy_options.sample = 3;
  o.progress = false;
  return o;
}

Evaluator fake_evaluator(const Oracle& oracle, std::atomic<int>* calls = nullptr) {
  return [&oracle, calls](const Architecture& a, uint64_t seed) {
    if (calls) ++*calls;
    // Infeasible candidates must never reach training.
    const bool feasible = oracle
                              .check([&] {
                                Genome g;
                                g.batch_size = a.batch_size;
                                for (const auto& l : a.layers)
                                  if (l.type == LayerType::conv) {
                                    g.kernel = l.kernel;
                                    g.conv.push_back(l.out);
                                  }
                                std::vector<int64_t> lin;
                                for (const auto& l : a.layers)
                                  if (l.type == LayerType::linear) lin.push_back(l.out);
                                lin.pop_back();
                                g.linear = lin;
                                g.pooling = "max";
                                return g;
                              }())
                              .feasible;
    REQUIRE_MESSAGE(feasible, "an infeasible candidate was trained: " << a.summary());
    return fake_accuracy(a, seed);
  };
}

std::vector<std::string> ids_and_genomes(const SearchResult& r) {
  std::vector<std::string> out;
  for (const auto& c : r.candidates)
    out.push_back(std::to_string(c.id) + " " + c.genome.to_string() + " " +
                  std::to_string(c.accuracy));
  return out;
}

// Proposes the costliest point of the space every time (always infeasible under half budget).
class Greedy final : public Strategy {
 public:
  explicit Greedy(const StrategyContext& c) : ctx_(c) {}
  std::string name() const override { return "greedy-costly"; }
  std::vector<Genome> propose(size_t n) override {
    return std::vector<Genome>(n, ctx_.space->skeletons().back());
  }
  void observe(const std::vector<Candidate>& r) override { seen += r.size(); }
  size_t seen = 0;

 private:
  StrategyContext ctx_;
};

}  // namespace

TEST_CASE("the oracle agrees with the estimator and applies the budget") {
  const OracleOptions oo = half_budget(100);
  const Oracle oracle(tiny_estimator(), tiny_space(), oo);
  Rng rng(5);
  int feasible = 0;
  for (int i = 0; i < 200; ++i) {
    const Genome g = tiny_space().sample(rng);
    const auto e = tiny_estimator().estimate(tiny_space().build(g));
    const Verdict v = oracle.check(g);
    // EstimatePlan and Estimator::estimate differ by up to ~4e-4 relative (reported).
    CHECK(v.joules == doctest::Approx(e.joules_per_iteration * 100).epsilon(1e-3));
    CHECK(v.std == doctest::Approx(e.std * 100).epsilon(1e-3));
    CHECK(oracle.joules(g) == doctest::Approx(v.joules).epsilon(1e-9));
    CHECK(v.feasible == (v.joules <= oo.budget_joules));
    CHECK(oracle.feasible(g) == v.feasible);
    feasible += v.feasible;
  }
  CHECK(feasible > 20);
  CHECK(feasible < 180);

  SUBCASE("confidence 0.95 asks for more headroom") {
    OracleOptions c = oo;
    c.confidence = 0.95;
    const Oracle strict(tiny_estimator(), tiny_space(), c);
    Rng r2(9);
    for (int i = 0; i < 200; ++i) {
      const Genome g = tiny_space().sample(r2);
      const Verdict v = strict.check(g);
      if (v.feasible) {
        CHECK(oracle.feasible(g));
        CHECK(v.probability >= 0.95 - 1e-9);
      }
      if (v.std > 0 && v.probability < 0.949) CHECK_FALSE(v.feasible);
    }
  }
  SUBCASE("the scan counts every point and finds the cheapest") {
    const SpaceScan s = oracle.scan(1'000'000, 1, 2);
    CHECK(s.exhaustive);
    CHECK(static_cast<double>(s.examined) == doctest::Approx(tiny_space().size()));
    CHECK(s.feasible > 0);
    CHECK(s.cheapest_joules <= s.costliest_joules);
    const SpaceScan sampled = oracle.scan(50, 1, 2);
    CHECK_FALSE(sampled.exhaustive);
    CHECK(sampled.examined == 50);
  }
}

TEST_CASE("budgets must be positive and finite") {
  OracleOptions o;
  o.iterations = 10;
  for (double b : std::vector<double>{0.0, -5.0, std::nan(""), INFINITY}) {
    o.budget_joules = b;
    CHECK_THROWS_WITH_AS(o.validate(), doctest::Contains("budget_joules = "), FieldError);
  }
  o.budget_joules = 10;
  o.confidence = 1.5;
  CHECK_THROWS_AS(o.validate(), InputError);
}

TEST_CASE("the strategy registry: built-ins on first use, add-only, replace on purpose") {
  const auto names = strategies().names();
  for (const char* n : {"random", "regularized-evolution", "nsga2"})
    CHECK(std::find(names.begin(), names.end(), n) != names.end());
  const Oracle oracle(tiny_estimator(), tiny_space(), half_budget());
  StrategyContext ctx{&oracle.space(), &oracle, {}};
  CHECK_THROWS_WITH_AS(make_strategy("annealing", ctx),
                       doctest::Contains("unknown; registered: nsga2, random"), InputError);
  const auto greedy = [](const StrategyContext& c) { return std::make_unique<Greedy>(c); };
  CHECK_THROWS_AS(register_strategy("nsga2", greedy),
                  std::invalid_argument);  // a built-in is not taken over
  strategies().replace("greedy-costly", greedy);
  CHECK(make_strategy("greedy-costly", ctx)->name() == "greedy-costly");
  CHECK_THROWS_AS(register_strategy("greedy-costly", greedy), std::invalid_argument);
}

TEST_CASE("every built-in strategy trains only feasible candidates and is deterministic") {
  const OracleOptions oo = half_budget();
  const Oracle oracle(tiny_estimator(), tiny_space(), oo);
  for (const char* name : {"random", "regularized-evolution", "nsga2"}) {
    CAPTURE(name);
    std::atomic<int> calls{0};
    SearchOptions o = base_options(oo, name);
    const SearchResult a = run_search(oracle, fake_evaluator(oracle, &calls), o);
    CHECK(a.status == SearchStatus::ok);
    CHECK(a.trained == 16);
    REQUIRE(a.best);
    CHECK(a.candidates[*a.best].verdict.feasible);
    for (const auto& c : a.candidates) {
      CHECK(c.verdict.feasible);  // built-ins only propose feasible points
      CHECK(c.accuracy >= 0);
    }
    CHECK(calls.load() <= 16);
    o.threads = 1;  // the same seed gives the same search on any number of threads
    const SearchResult b = run_search(oracle, fake_evaluator(oracle), o);
    CHECK(ids_and_genomes(a) == ids_and_genomes(b));
    o.seed = 12;
    const SearchResult c = run_search(oracle, fake_evaluator(oracle), o);
    CHECK(ids_and_genomes(a) != ids_and_genomes(c));
    // The front is non-dominated and sorted by energy.
    for (size_t k = 1; k < a.front.size(); ++k) {
      CHECK(a.candidates[a.front[k]].verdict.joules >= a.candidates[a.front[k - 1]].verdict.joules);
      CHECK(a.candidates[a.front[k]].accuracy > a.candidates[a.front[k - 1]].accuracy);
    }
  }
}

TEST_CASE("infeasible proposals come back marked infeasible and are never trained") {
  const OracleOptions oo = half_budget();
  const Oracle oracle(tiny_estimator(), tiny_space(), oo);
  strategies().replace("greedy-costly",
                       [](const StrategyContext& c) { return std::make_unique<Greedy>(c); });
  SearchOptions o = base_options(oo, "greedy-costly");
  o.max_proposals_per_candidate = 2;
  std::atomic<int> calls{0};
  const SearchResult r = run_search(oracle, fake_evaluator(oracle, &calls), o);
  CHECK(calls.load() == 0);
  CHECK(r.status == SearchStatus::no_feasible);
  CHECK_FALSE(r.best);
  REQUIRE_FALSE(r.candidates.empty());
  for (const auto& c : r.candidates) {
    CHECK_FALSE(c.verdict.feasible);
    CHECK_FALSE(c.trained);
    CHECK(c.accuracy < 0);
  }
}

TEST_CASE("a checkpoint resumes an interrupted search where it stopped") {
  thor::testing::TempDir dir("search-ckpt");
  const OracleOptions oo = half_budget();
  const Oracle oracle(tiny_estimator(), tiny_space(), oo);
  SearchOptions o = base_options(oo);
  const SearchResult whole = run_search(oracle, fake_evaluator(oracle), o);

  o.checkpoint = dir.str("checkpoint.json");
  o.candidates = 8;  // "interrupted" after 8
  const SearchResult first = run_search(oracle, fake_evaluator(oracle), o);
  REQUIRE(std::filesystem::exists(o.checkpoint));
  o.candidates = 16;
  std::atomic<int> calls{0};
  const SearchResult resumed = run_search(oracle, fake_evaluator(oracle, &calls), o);
  CHECK(resumed.resumed >= 4);
  CHECK(calls.load() <= 16 - resumed.resumed);
  CHECK(ids_and_genomes(resumed) == ids_and_genomes(whole));

  SUBCASE("a checkpoint made with other settings is ignored") {
    o.seed = 99;
    const SearchResult other = run_search(oracle, fake_evaluator(oracle), o);
    CHECK(other.resumed == 0);
  }
  SUBCASE("a checkpoint with an accuracy outside [0, 1] is ignored (found by fuzz/)") {
    auto j = nlohmann::json::parse(read_file(o.checkpoint));
    j["candidates"][0]["accuracy"] = 7.0;
    write_file_atomic(o.checkpoint, j.dump());
    const SearchResult again = run_search(oracle, fake_evaluator(oracle), o);
    CHECK(again.resumed == 0);
    for (const auto& c : again.candidates) CHECK(c.accuracy <= 1.0);
  }
}

TEST_CASE("outputs: search.json, best.yaml, pareto.csv") {
  thor::testing::TempDir dir("search-out");
  const OracleOptions oo = half_budget();
  const Oracle oracle(tiny_estimator(), tiny_space(), oo);
  const SearchOptions o = base_options(oo);
  const SearchResult r = run_search(oracle, fake_evaluator(oracle), o);
  const SpaceScan scan = oracle.scan(1'000'000, 1, 1);
  write_outputs(dir.str(), oracle, r, o, &scan, nullptr);
  const auto j = nlohmann::json::parse(read_file(dir.str("search.json")));
  REQUIRE(j["candidates"].size() == r.candidates.size());
  for (const auto& c : j["candidates"]) {
    for (const char* k : {"architecture", "estimated_joules", "estimated_std", "accuracy",
                          "feasible", "wall_seconds"})
      CHECK_MESSAGE(c.contains(k), k);
    CHECK_NOTHROW(architecture_from_yaml_text(c["architecture"].get<std::string>()));
  }
  CHECK(j["best"].get<uint64_t>() == r.candidates[*r.best].id);
  const Architecture best = load_architecture(dir.str("best.yaml"));
  CHECK(best == tiny_space().build(r.candidates[*r.best].genome));
  const std::string csv = read_file(dir.str("pareto.csv"));
  CHECK(std::count(csv.begin(), csv.end(), '\n') == static_cast<long>(r.front.size() + 1));
}

TEST_CASE("the training evaluator is deterministic in its seed") {
  const Dataset train = thor::testing::left_right_dataset(256, 8, 1);
  const Dataset test = thor::testing::left_right_dataset(128, 8, 2);
  ProxyOptions p;
  p.iterations = 30;
  p.train_limit = 200;
  p.eval_samples = 128;
  TrainOptions t;
  const Evaluator ev = make_training_evaluator(train, test, p, t);
  Rng rng(1);
  const Architecture a = tiny_space().build(tiny_space().sample(rng));
  const double x = ev(a, 5), y = ev(a, 5);
  CHECK(x == y);
  CHECK(x >= 0.0);
  CHECK(x <= 1.0);
  CHECK(candidate_seed(1, 2) != candidate_seed(1, 3));
  CHECK(candidate_seed(1, 2) != candidate_seed(2, 2));
}

namespace {
// Proposes the same feasible point forever.
class Repeat final : public Strategy {
 public:
  explicit Repeat(const StrategyContext& c) : ctx_(c) {}
  std::string name() const override { return "repeat"; }
  std::vector<Genome> propose(size_t n) override {
    Rng rng(1);
    return std::vector<Genome>(n, *random_feasible(*ctx_.oracle, rng));
  }
  void observe(const std::vector<Candidate>&) override {}

 private:
  StrategyContext ctx_;
};
}  // namespace

TEST_CASE("re-proposed points are answered from the first and do not count as trained") {
  const OracleOptions oo = half_budget();
  const Oracle oracle(tiny_estimator(), tiny_space(), oo);
  register_strategy("repeat", [](const StrategyContext& c) { return std::make_unique<Repeat>(c); });
  SearchOptions o = base_options(oo, "repeat");
  o.max_proposals_per_candidate = 2;
  std::atomic<int> calls{0};
  const SearchResult r = run_search(oracle, fake_evaluator(oracle, &calls), o);
  CHECK(calls.load() == 1);
  CHECK(r.trained == 1);
  CHECK(r.reused == static_cast<int64_t>(r.candidates.size()) - 1);
  CHECK(r.status == SearchStatus::exhausted);
  for (const auto& c : r.candidates) CHECK(c.accuracy == r.candidates[0].accuracy);
}
