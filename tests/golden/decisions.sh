#!/usr/bin/env bash
# Prints the decisions of the golden prune and search runs (sim meter, fixed
# seeds): what a refactor must leave unchanged, and what any number of MPI
# ranks must reproduce. Usage: decisions.sh BIN_DIR OUT_DIR [LAUNCHER...]
# e.g. decisions.sh build/bin out mpirun --oversubscribe -np 3
set -euo pipefail
bin="$1"; out="$2"; shift 2; here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$out"; mkdir -p "$out"
"$@" "$bin/prune" --recipe "$here/prune_sim.yaml" --output "$out/prune" --quiet >/dev/null
"$@" "$bin/search" --recipe "$here/search_sim.yaml" --profile "$out/search_profile.json" \
  --output "$out/search" --fresh --quiet --no-final-train >/dev/null
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
r = json.load(open(f"{out}/prune/report.json"))
runs = [r["pruned"]] + list(r["compare"].values())
for run in runs:
    print("prune", run["oracle"], "pool", run["sampled"], run["unique"], run["feasible"], run["in_band"])
    for c in run["candidates"]:
        print("  candidate", c["channels"], "%.6g" % c["oracle_joules_per_iteration"], "%.4f" % c["short_accuracy"])
    print("  winner", run["channels"], "rank", run["winner_rank"], "accuracy %.4f" % run["accuracy"],
          "measured ratio %.4f" % run["measured_energy_ratio"])
s = json.load(open(f"{out}/search/search.json"))
print("search best", s["best"], "front", s["pareto_front"])
for c in s["candidates"]:
    print("  candidate", json.dumps(c["genome"], sort_keys=True), "%.4f" % c["accuracy"], "%.6g" % c["estimated_joules"], c["feasible"])
PY
