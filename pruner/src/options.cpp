#include "thor/pruner/options.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "thor/pruner/oracle.hpp"
#include "thor/pruner/strategy.hpp"

namespace thor::pruner {

namespace {
constexpr int64_t kBig = std::numeric_limits<int32_t>::max();

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
  if (kind == Kind::fraction && !(value > 0.0 && value <= 1.0))
    throw InputError("prune.budget.fraction = " + fmt(value) + ": expected 0 < fraction <= 1");
  if (kind != Kind::fraction && !(value > 0.0 && std::isfinite(value)))
    throw InputError("prune.budget = " + fmt(value) + " J: expected a positive number");
}

void PruneOptions::validate() const {
  budget.validate();
  auto need = [](bool ok, const std::string& field, const std::string& value,
                 const std::string& rule) {
    if (!ok) throw InputError("prune." + field + " = " + value + ": expected " + rule);
  };
  need(samples >= 1, "samples", std::to_string(samples), ">= 1");
  need(candidates >= 1, "candidates", std::to_string(candidates), ">= 1");
  need(min_keep > 0.0 && min_keep <= 1.0, "min_keep", fmt(min_keep), "0 < min_keep <= 1");
  need(band >= 0.0 && band < 1.0, "band", fmt(band), "0 <= band < 1");
  need(short_finetune >= 0, "short_finetune", std::to_string(short_finetune), ">= 0");
  need(final_finetune >= 0, "final_finetune", std::to_string(final_finetune), ">= 0");
  need(lr >= 0.0 && lr < 10.0, "lr", fmt(lr), "0 (the recipe's train.lr) or 0 < lr < 10");
  need(validation >= 1, "validation", std::to_string(validation), ">= 1");
  need(verify >= 0, "verify", std::to_string(verify), ">= 0");
  need(verify_margin >= 0.0 && 2.0 * verify_margin <= band, "verify_margin", fmt(verify_margin),
       "0 <= verify_margin <= band / 2");
  need(concurrency >= 0, "concurrency", std::to_string(concurrency), ">= 0 (0: all cores)");
  need(test_samples != 0, "test_samples", "0", "< 0 (all) or >= 1");
  const auto names = pruning_strategy_names();
  if (std::find(names.begin(), names.end(), strategy) == names.end())
    make_pruning_strategy(strategy);  // throws
  for (const auto& c : compare) need(c == "flops", "compare", "'" + c + "'", "a list of: flops");
}

PruneOptions parse_prune_options(const Recipe& recipe) {
  PruneOptions o;
  const YamlCursor& p = recipe.prune;
  if (!p.node.IsDefined() || p.node.IsNull()) return o;
  p.allow_only({"strategy", "budget", "samples", "candidates", "min_keep", "band", "short_finetune",
                "final_finetune", "lr", "validation", "verify", "verify_margin", "concurrency",
                "seed", "compare", "checkpoint", "test_samples", "plots"});
  o.strategy = p.get_string("strategy", o.strategy);
  {
    const auto names = pruning_strategy_names();
    if (std::find(names.begin(), names.end(), o.strategy) == names.end()) {
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      p.child("strategy").fail("unknown strategy '" + o.strategy + "'; expected one of: " + known);
    }
  }
  if (p.has("budget")) {
    const YamlCursor b = p.child("budget");
    if (b.is_scalar()) {
      // A bare number is read as a fraction: `budget: 0.5`.
      o.budget.kind = PruneBudget::Kind::fraction;
      o.budget.value = b.as_double();
      if (!(o.budget.value > 0.0 && o.budget.value <= 1.0))
        b.fail("expected a fraction in (0, 1], got " + fmt(o.budget.value));
    } else {
      b.allow_only({"fraction", "joules_per_iteration", "joules"});
      const int given =
          int(b.has("fraction")) + int(b.has("joules_per_iteration")) + int(b.has("joules"));
      if (given != 1) b.fail("expected exactly one of fraction, joules_per_iteration, joules");
      if (b.has("fraction")) {
        o.budget.kind = PruneBudget::Kind::fraction;
        o.budget.value = b.child("fraction").as_double();
        if (!(o.budget.value > 0.0 && o.budget.value <= 1.0))
          b.child("fraction").fail("expected a fraction in (0, 1], got " + fmt(o.budget.value));
      } else {
        const char* key = b.has("joules") ? "joules" : "joules_per_iteration";
        o.budget.kind =
            b.has("joules") ? PruneBudget::Kind::joules : PruneBudget::Kind::joules_per_iteration;
        o.budget.value = b.child(key).as_double();
        if (!(o.budget.value > 0.0 && std::isfinite(o.budget.value)))
          b.child(key).fail("expected a positive number of joules, got " + fmt(o.budget.value));
      }
    }
  }
  o.samples = p.get_int("samples", o.samples, 1, 10000000);
  o.candidates = p.get_int("candidates", o.candidates, 1, 100000);
  o.min_keep = p.get_double("min_keep", o.min_keep, 1e-6, 1.0);
  o.band = p.get_double("band", o.band, 0.0, 0.99);
  o.short_finetune = p.get_int("short_finetune", o.short_finetune, 0, kBig);
  o.final_finetune = p.get_int("final_finetune", o.final_finetune, 0, kBig);
  o.lr = p.get_double("lr", o.lr, 0.0, 9.999);
  o.validation = p.get_int("validation", o.validation, 1, kBig);
  o.verify = p.get_int("verify", o.verify, 0, 1000);
  o.verify_margin =
      p.get_double("verify_margin", std::min(o.verify_margin, o.band / 2.0), 0.0, 0.5);
  if (2.0 * o.verify_margin > o.band)
    p.child("verify_margin")
        .fail("expected at most half of prune.band (" + fmt(o.band) + "), got " +
              fmt(o.verify_margin));
  o.concurrency = static_cast<int>(p.get_int("concurrency", o.concurrency, 0, 1024));
  o.seed = static_cast<uint64_t>(p.get_int("seed", static_cast<int64_t>(o.seed), 0, kBig));
  if (p.has("compare")) {
    const YamlCursor c = p.child("compare");
    o.compare = c.as_string_list();
    for (size_t i = 0; i < o.compare.size(); ++i)
      if (o.compare[i] != "flops")
        c.at(i).fail("unknown oracle '" + o.compare[i] + "'; expected: flops");
  }
  o.checkpoint = p.get_string("checkpoint", "");
  o.test_samples = p.get_int("test_samples", o.test_samples, -1, kBig);
  if (o.test_samples == 0)
    p.child("test_samples").fail("expected -1 (all) or a positive count, got 0");
  o.plots = p.get_bool("plots", o.plots);
  o.validate();
  return o;
}

}  // namespace thor::pruner
