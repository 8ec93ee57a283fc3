#include "thor/pruner/options.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "thor/cost_oracle.hpp"
#include "thor/pruner/strategy.hpp"

namespace thor::pruner {

namespace {
std::string fmt(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}
}  // namespace

double PruneBudget::per_iteration(double baseline_jpi, int64_t iterations) const {
  switch (kind) {
    case Kind::fraction:
      return value * baseline_jpi;
    case Kind::joules_per_iteration:
      return value;
    case Kind::joules:
      return value / static_cast<double>(std::max<int64_t>(1, iterations));
  }
  return value;
}

std::string PruneBudget::describe(int64_t iterations) const {
  switch (kind) {
    case Kind::fraction:
      return fmt(100.0 * value) + "% of the baseline";
    case Kind::joules_per_iteration:
      return fmt(value) + " J/iteration";
    case Kind::joules:
      return fmt(value) + " J over " + std::to_string(iterations) + " iterations";
  }
  return "";
}

void PruneBudget::validate() const {
  const FieldRules f("budget");
  switch (kind) {
    case Kind::fraction:
      f.require(value > 0.0 && value <= 1.0, "fraction", fmt(value),
                "expected a fraction in (0, 1]");
      break;
    case Kind::joules_per_iteration:
    case Kind::joules:
      f.require(value > 0.0 && std::isfinite(value),
                kind == Kind::joules ? "joules" : "joules_per_iteration", fmt(value),
                "expected a positive number of joules");
      break;
  }
}

void PruneOptions::validate() const {
  const FieldRules f("prune");
  if (!pruning_strategies().contains(strategy))
    f.fail("strategy",
           "unknown strategy '" + strategy + "'; expected one of: " + pruning_strategies().known());
  f.nested("budget", [&] { budget.validate(); });
  f.count("samples", samples, 1, 10000000);
  f.count("candidates", candidates, 1, 100000);
  f.number("min_keep", min_keep, 1e-6, 1.0);
  f.number("band", band, 0.0, 0.99);
  f.count("short_finetune", short_finetune, 0);
  f.count("final_finetune", final_finetune, 0);
  f.require(lr >= 0.0 && lr < 10.0, "lr", fmt(lr),
            "expected 0 (the recipe's train.lr) or 0 < lr < 10");
  f.count("validation", validation, 1);
  f.count("verify", verify, 0, 1000);
  f.require(verify_margin >= 0.0 && 2.0 * verify_margin <= band, "verify_margin",
            fmt(verify_margin),
            "expected 0 <= verify_margin <= band / 2 (band = " + fmt(band) + ")");
  f.count("calibrate", calibrate, 0, 100);
  f.count("concurrency", concurrency, 0, 1024);
  f.require(test_samples != 0, "test_samples", "0",
            "expected -1 (all of the test set) or a positive count");
  for (size_t i = 0; i < compare.size(); ++i)
    if (!cost_oracles().contains(compare[i]))
      f.fail("compare[" + std::to_string(i) + "]",
             "unknown oracle '" + compare[i] + "'; registered: " + cost_oracles().known());
}

PruneOptions parse_prune_options(const Recipe& recipe) {
  PruneOptions o;
  const YamlCursor& p = recipe.prune;
  if (!p.node.IsDefined() || p.node.IsNull()) return o;
  p.allow_only({"strategy", "budget", "samples", "candidates", "min_keep", "band", "short_finetune",
                "final_finetune", "lr", "validation", "verify", "verify_margin", "calibrate",
                "concurrency", "seed", "compare", "checkpoint", "test_samples", "plots"});
  o.strategy = p.get_string("strategy", o.strategy);
  if (p.has("budget")) {
    const YamlCursor b = p.child("budget");
    if (b.is_scalar()) {
      // A bare number is read as a fraction: `budget: 0.5`.
      o.budget.kind = PruneBudget::Kind::fraction;
      o.budget.value = b.as_double();
    } else {
      b.allow_only({"fraction", "joules_per_iteration", "joules"});
      const int given =
          int(b.has("fraction")) + int(b.has("joules_per_iteration")) + int(b.has("joules"));
      if (given != 1) b.fail("expected exactly one of fraction, joules_per_iteration, joules");
      const char* key = b.has("fraction") ? "fraction"
                        : b.has("joules") ? "joules"
                                          : "joules_per_iteration";
      o.budget.kind = b.has("fraction") ? PruneBudget::Kind::fraction
                      : b.has("joules") ? PruneBudget::Kind::joules
                                        : PruneBudget::Kind::joules_per_iteration;
      o.budget.value = b.child(key).as_double();
    }
  }
  o.samples = p.get_int("samples", o.samples);
  o.candidates = p.get_int("candidates", o.candidates);
  o.min_keep = p.get_double("min_keep", o.min_keep);
  o.band = p.get_double("band", o.band);
  o.short_finetune = p.get_int("short_finetune", o.short_finetune);
  o.final_finetune = p.get_int("final_finetune", o.final_finetune);
  o.lr = p.get_double("lr", o.lr);
  o.validation = p.get_int("validation", o.validation);
  o.verify = p.get_int("verify", o.verify);
  // The default margin shrinks with a narrow band.
  o.verify_margin = p.get_double("verify_margin", std::min(o.verify_margin, o.band / 2.0));
  o.calibrate = p.get_int("calibrate", o.calibrate);
  o.concurrency = p.get_int32("concurrency", o.concurrency);
  o.seed = p.get_uint("seed", o.seed);
  if (p.has("compare")) o.compare = p.child("compare").as_string_list();
  o.checkpoint = p.get_string("checkpoint", "");
  o.test_samples = p.get_int("test_samples", o.test_samples);
  o.plots = p.get_bool("plots", o.plots);
  p.validate_with([&] { o.validate(); });
  return o;
}

}  // namespace thor::pruner
