#!/usr/bin/env bash
# Ctrl-C (SIGINT) during a long prune ends it with one message and exit code
# 130, leaving no output folder, no staging folder and no partial run log;
# the same command again finishes (from what the interrupted run kept).
# Usage: interrupt.sh BIN_DIR WORK_DIR
set -euo pipefail
bin="$1"; work="$2"; here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$work"; mkdir -p "$work"
out="$work/out"
cmd=("$bin/prune" --recipe "$here/kill_sim.yaml" --output "$out")
"${cmd[@]}" > "$work/log.1" 2>&1 & pid=$!
for _ in $(seq 1 1500); do
  grep -q "short fine-tunes\|fine-tuning" "$work/log.1" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.02
done
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 130 ] || { echo "FAIL: exit code $rc after SIGINT, expected 130"; cat "$work/log.1"; exit 1; }
grep -q "interrupted by Ctrl-C (SIGINT): stopped; no half-written output" "$work/log.1" \
  || { echo "FAIL: no interruption message"; cat "$work/log.1"; exit 1; }
[ "$(grep -c "interrupted by" "$work/log.1")" -eq 1 ] || { echo "FAIL: more than one message"; exit 1; }
[ ! -e "$out" ] || { echo "FAIL: an output folder was left"; exit 1; }
if ls -a "$work" | grep -q "^\.out\.tmp-"; then echo "FAIL: a staging folder was left"; ls -a "$work"; exit 1; fi
"${cmd[@]}" --quiet > "$work/log.2" 2>&1 || { echo "FAIL: the rerun failed"; cat "$work/log.2"; exit 1; }
[ -s "$out/report.json" ] || { echo "FAIL: the rerun wrote no report"; exit 1; }
echo "PASS: SIGINT → exit 130, one message, nothing half-written; the rerun finished"
