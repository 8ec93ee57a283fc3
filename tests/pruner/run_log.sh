#!/usr/bin/env bash
# A prune run writes run_log.csv and run_log.jsonl beside its report: the
# conventional columns with SI units, one row per meter window (profiling,
# baseline, verification, final measurement) and per estimate, consistent
# figures (power = energy / duration), and the same rows in both files.
# Usage: run_log.sh BIN_DIR WORK_DIR
set -euo pipefail
bin="$1"; work="$2"; here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$work"; mkdir -p "$work"
"$bin/prune" --recipe "$here/kill_sim.yaml" --output "$work/out" --quiet > /dev/null
python3 - "$work/out" <<'PY'
import csv, json, math, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(f"{d}/run_log.csv")))
cols = ["run_id", "timestamp_utc", "program", "host", "meter", "source", "what", "subject",
        "iterations", "energy_J", "duration_s", "power_W", "energy_per_iteration_J", "spread"]
assert list(rows[0].keys()) == cols, list(rows[0].keys())
jl = [json.loads(l) for l in open(f"{d}/run_log.jsonl")]
assert len(jl) == len(rows), (len(jl), len(rows))
assert len({r["run_id"] for r in rows}) == 1
whats = {r["what"] for r in rows}
for w in ["profiling", "baseline", "verify", "final", "candidate"]:
    assert w in whats, f"no '{w}' rows: {whats}"
windows = [r for r in rows if r["source"] != "estimated"]
for r in windows:  # training windows cost energy; an evaluation window may cost none on `sim`
    e, s, p = float(r["energy_J"]), float(r["duration_s"]), float(r["power_W"])
    assert s > 0 and math.isclose(p, e / s, rel_tol=1e-6, abs_tol=1e-12), r
    assert e > 0 or (r["iterations"] == "0" and r["what"].endswith("evaluation")), r
    assert r["source"] == "simulated" and r["meter"].startswith("sim"), r
for r in rows:
    assert r["timestamp_utc"].endswith("Z") and r["timestamp_utc"][10] == "T", r
    assert r["program"] == "prune"
est = [r for r in rows if r["source"] == "estimated"]
assert all(float(r["energy_J"]) > 0 and r["duration_s"] == "" for r in est)
print(f"PASS: {len(rows)} rows ({len(windows)} meter windows, {len(est)} estimates), columns {cols}")
PY
