#!/usr/bin/env bash
# search killed with SIGKILL at several points — while profiling, after the
# first generation, later in the search — and started again with the same
# arguments each time, ends with the same candidates and winner as an
# uninterrupted run; the reruns resumed the profiling journal and the
# checkpoint, and no killed run left a search.json behind.
# Usage: kill_resume.sh BIN_DIR WORK_DIR
set -euo pipefail
bin="$1"; work="$2"; here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$work"; mkdir -p "$work"
recipe="$here/kill_sim.yaml"

"$bin/search" --recipe "$recipe" --profile "$work/ref-profile.json" --output "$work/ref" --quiet \
  --no-final-train > /dev/null

out="$work/out"; profile="$work/profile.json"
cmd=("$bin/search" --recipe "$recipe" --profile "$profile" --output "$out" --no-final-train)
candidates() { python3 -c "import json; print(len(json.load(open('$out/checkpoint.json'))['candidates']))" 2>/dev/null || echo 0; }
kill_when() {  # name, condition (a shell test); kills once it holds, then waits for the job to end
  local name="$1" cond="$2" hit=""
  "${cmd[@]}" > "$work/log.$name" 2>&1 & pid=$!
  for _ in $(seq 1 3000); do
    if eval "$cond"; then hit=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  [ -n "$hit" ] || { echo "FAIL: kill point '$name' never reached"; cat "$work/log.$name"; exit 1; }
  kill -9 "$pid"
  wait "$pid" || true
  [ ! -e "$out/search.json" ] || { echo "FAIL: search.json written by a killed run"; exit 1; }
  ls "$out"/*.partial > /dev/null 2>&1 && echo "note: a killed run's partial run log remains (by design: removed by the next run)"
  echo "killed at: $name ($(candidates) candidates checkpointed)"
}
kill_when profiling "[ -s '$profile.journal' ] && [ \$(wc -l < '$profile.journal') -ge 4 ]"
[ ! -e "$profile" ] || { echo "FAIL: a profile was saved by a run killed while profiling"; exit 1; }
kill_when first-generation "[ \$(candidates) -ge 4 ]"
kill_when later-generation "[ \$(candidates) -ge 12 ]"
"${cmd[@]}" > "$work/log.final" 2>&1 || { echo "FAIL: the last run failed"; cat "$work/log.final"; exit 1; }
grep -Eq "[1-9][0-9]* reused from the journal" "$work/log.first-generation" \
  || grep -q "reusing the profile" "$work/log.first-generation" \
  || { echo "FAIL: the run after the profiling kill neither resumed the journal nor reused a profile"; exit 1; }
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
ref = json.load(open(f"{w}/ref/search.json")); got = json.load(open(f"{w}/out/search.json"))
key = lambda s: [(json.dumps(c["genome"], sort_keys=True), round(c["accuracy"], 9)) for c in s["candidates"]]
assert got["resumed"] >= 12, f"the last run resumed only {got['resumed']} candidates"
assert key(ref) == key(got), "candidates differ from the uninterrupted run"
assert ref["best"] == got["best"], "winner differs"
print(f"PASS: resumed {got['resumed']} candidates; {len(got['candidates'])} candidates and the winner equal the uninterrupted run's after 3 kills")
PY
