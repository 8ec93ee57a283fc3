#!/usr/bin/env bash
# A rank killed with SIGKILL mid-search stops the whole job (non-zero exit,
# no hang); the same command again resumes from rank 0's checkpoint and
# ends with the same candidates and winner as an uninterrupted run.
# Usage: kill_rank.sh BIN_DIR WORK_DIR
set -euo pipefail
bin="$1"; work="$2"; here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$work"; mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
common=(--recipe "$here/kill_sim.yaml" --profile "$work/profile.json" --quiet --no-final-train)

# The reference: one process, uninterrupted.
"$bin/search" "${common[@]}" --output "$work/ref" --fresh > /dev/null

# Two ranks; kill rank 1 once rank 0 has checkpointed a generation.
mpirun --oversubscribe -np 2 "$bin/search" "${common[@]}" --output "$work/mpi" --fresh \
  > "$work/first.log" 2>&1 &
launcher=$!
victim=""
for _ in $(seq 1 600); do
  if [ -s "$work/mpi/checkpoint.json" ] && python3 -c "import json,sys; sys.exit(0 if len(json.load(open('$work/mpi/checkpoint.json'))['candidates']) >= 4 else 1)" 2>/dev/null; then
    for pid in $(pgrep -f "$bin/search" || true); do
      if tr '\0' '\n' < /proc/$pid/environ 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1'; then victim=$pid; fi
    done
    [ -n "$victim" ] && break
  fi
  sleep 0.1
done
[ -n "$victim" ] || { echo "FAIL: never found rank 1 after a checkpoint"; cat "$work/first.log"; exit 1; }
kill -9 "$victim"
for _ in $(seq 1 1200); do kill -0 "$launcher" 2>/dev/null || break; sleep 0.1; done
kill -0 "$launcher" 2>/dev/null && { echo "FAIL: the job hangs after a rank was killed"; kill -9 "$launcher"; exit 1; }
rc=0
wait "$launcher" || rc=$?
[ "$rc" -ne 0 ] || { echo "FAIL: the job exited 0 after a rank was killed"; exit 1; }
done_before=$(python3 -c "import json; print(len(json.load(open('$work/mpi/checkpoint.json'))['candidates']))")
echo "killed rank 1 (pid $victim) with $done_before candidates checkpointed; mpirun exited $rc"

# The same command again (no --fresh): resumes and finishes.
mpirun --oversubscribe -np 2 "$bin/search" "${common[@]}" --output "$work/mpi" > "$work/second.log" 2>&1 \
  || { echo "FAIL: the rerun failed"; cat "$work/second.log"; exit 1; }
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
ref = json.load(open(f"{w}/ref/search.json")); got = json.load(open(f"{w}/mpi/search.json"))
key = lambda s: [(json.dumps(c["genome"], sort_keys=True), round(c["accuracy"], 9)) for c in s["candidates"]]
assert got["resumed"] > 0, "the rerun resumed nothing"
assert key(ref) == key(got), "candidates differ from the uninterrupted run"
assert ref["best"] == got["best"], "winner differs"
print(f"resumed {got['resumed']} candidates; {len(got['candidates'])} candidates and the winner equal the uninterrupted run's")
PY
