#!/usr/bin/env bash
# Starts `profile`, kills it with SIGKILL once a few measurements are in the
# journal, checks that nothing half-written is left, resumes with the same
# arguments and checks the journal was reused; then runs estimate --measure.
set -euo pipefail
bin=$1 arch=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir"
out=$dir/p.json journal=$dir/p.json.journal
args=(--arch "$arch" --meter cpu-model --out "$out" --max-points 6 --batches 20 --repeats 2 --min-window 0 --min-warmup 0 --anchors 1 --quiet)
"$bin/profile" "${args[@]}" & pid=$!
for _ in $(seq 1 600); do
  [ -f "$journal" ] && [ "$(wc -l < "$journal")" -ge 6 ] && break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null || { echo "profile finished before it could be killed"; exit 1; }
wait "$pid" 2>/dev/null || true
lines=$(wc -l < "$journal")
[ ! -f "$out" ] || { echo "FAIL: $out exists after kill"; exit 1; }
echo "killed with $lines journal lines"
log=$("$bin/profile" "${args[@]}")
echo "$log"
reused=$(echo "$log" | sed -n 's/.* \([0-9]*\) reused from the journal.*/\1/p')
[ -n "$reused" ] && [ "$reused" -ge $((lines - 2)) ] || { echo "FAIL: reused '$reused' of $lines"; exit 1; }
[ -f "$out" ] || { echo "FAIL: no profile after resume"; exit 1; }
[ ! -f "$journal" ] || { echo "FAIL: journal left after success"; exit 1; }
json=$("$bin/estimate" --profile "$out" --arch "$arch" --measure --meter cpu-model --json)
echo "$json"
echo "$json" | grep -q '"measured_joules_per_iteration"' || { echo "FAIL: no measured figure"; exit 1; }
echo "$json" | grep -q '"joules_per_iteration"' || exit 1
echo "1 passed, 0 failed"
