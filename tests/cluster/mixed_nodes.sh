#!/usr/bin/env bash
# A rank on another kind of device than the profile describes: every rank
# stops with exit code 2 and one message naming the rank and the difference.
# Usage: mixed_nodes.sh BIN_DIR WORK_DIR RECIPE
set -uo pipefail
bin="$1"; work="$2"; recipe="$3"
rm -rf "$work"; mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
args=(--recipe "$recipe" --profile "$work/profile.json" --output "$work/out" --quiet --no-final-train --fresh)
mpirun --oversubscribe -np 1 "$bin/search" "${args[@]}" : \
       -np 1 -x THOR_CPU_MODEL="Another CPU 9000" "$bin/search" "${args[@]}" > "$work/log" 2>&1
rc=$?
cat "$work/log"
[ "$rc" -eq 2 ] || { echo "FAIL: exit code $rc, expected 2"; exit 1; }
grep -q "rank 1 on .* is another kind of device than the profile describes (cpu_model: .* (profile) vs Another CPU 9000 (host))" "$work/log" \
  || { echo "FAIL: no message naming rank 1 and its CPU"; exit 1; }
[ ! -e "$work/out/search.json" ] || { echo "FAIL: outputs written"; exit 1; }
echo "PASS"
