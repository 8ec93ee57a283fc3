#!/usr/bin/env bash
# prune killed with SIGKILL at several points — during the baseline's
# training, after the baseline, after the first oracle's short fine-tunes —
# and started again with the same arguments each time, ends with the same
# decisions as an uninterrupted run, and each rerun resumed the work done.
# With a launcher (e.g. mpirun -np 2), rank 1 is the one killed.
# Usage: kill_resume.sh BIN_DIR WORK_DIR [LAUNCHER...]
set -euo pipefail
bin="$1"; work="$2"; shift 2; launcher=("$@"); here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$work"; mkdir -p "$work"
recipe="$here/kill_sim.yaml"
decisions() {
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1] + "/report.json"))
for run in [r["pruned"]] + list(r["compare"].values()):
    print(run["oracle"], [(c["channels"], round(c["short_accuracy"], 9)) for c in run["candidates"]],
          run["channels"], run["winner_rank"], round(run["accuracy"], 9))
print("baseline", round(r["baseline"]["accuracy"], 9))
PY
}
"$bin/prune" --recipe "$recipe" --output "$work/ref" --quiet > /dev/null
decisions "$work/ref" > "$work/ref.txt"

out="$work/out"; state="$work/.out.resume/state.json"
start() { "${launcher[@]}" "$bin/prune" --recipe "$recipe" --output "$out" > "$work/log.$1" 2>&1 & pid=$!; }
victim() {  # the process to kill: prune itself, or rank 1 under a launcher
  if [ ${#launcher[@]} -eq 0 ]; then echo "$pid"; return; fi
  for p in $(pgrep -f "$bin/prune" || true); do
    tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && echo "$p"
  done
}
kill_when() {  # name, condition (a shell test); kills once it holds, then waits for the job to end
  local name="$1" cond="$2" v=""
  start "$name"
  for _ in $(seq 1 3000); do
    if eval "$cond"; then v=$(victim); [ -n "$v" ] && break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  [ -n "$v" ] || { echo "FAIL: kill point '$name' never reached"; cat "$work/log.$name"; exit 1; }
  kill -9 $v
  for _ in $(seq 1 1500); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then echo "FAIL: the job hangs after a kill"; kill -9 "$pid"; exit 1; fi
  wait "$pid" || true
  [ ! -e "$out/report.json" ] || { echo "FAIL: output written by a killed run"; exit 1; }
  echo "killed at: $name"
}
has() { [ -s "$state" ] && python3 -c "import json,sys; s=json.load(open('$state')); sys.exit(0 if $1 else 1)" 2>/dev/null; }
kill_when baseline-training "grep -q 'training the baseline' '$work/log.baseline-training' 2>/dev/null"
kill_when after-baseline "has \"'baseline' in s\""
kill_when after-first-round "has \"'estimator' in s.get('rounds', {})\""
"${launcher[@]}" "$bin/prune" --recipe "$recipe" --output "$out" > "$work/log.final" 2>&1
grep -q "resuming: the baseline" "$work/log.final" || { echo "FAIL: the baseline was not resumed"; exit 1; }
grep -q "resuming: the short fine-tunes" "$work/log.final" || { echo "FAIL: the fine-tunes were not resumed"; exit 1; }
[ ! -e "$work/.out.resume" ] || { echo "FAIL: the resume state outlived the finished run"; exit 1; }
decisions "$out" > "$work/got.txt"
diff -u "$work/ref.txt" "$work/got.txt" || { echo "FAIL: decisions differ from the uninterrupted run"; exit 1; }
echo "PASS: same decisions as the uninterrupted run after 3 kills"
