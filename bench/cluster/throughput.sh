#!/usr/bin/env bash
# Candidate evaluations per minute with 1 and 2 MPI ranks (one LibTorch
# thread each, one core each on a 2-core machine), and with more ranks
# oversubscribed (for correctness only: same winner). Repetitions alternate
# the rank counts so that a slow spell of the machine hits both alike; the
# table gives medians and the ratio. Nothing else should run meanwhile.
# Usage: bench/cluster/throughput.sh [BUILD_DIR] [REPS] [MORE_RANKS]
set -euo pipefail
build="${1:-build}"; reps="${2:-3}"; more="${3:-4}"
here="$(cd "$(dirname "$0")" && pwd)"; work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
run() {  # ranks rep
  local out="$work/np$1-$2"
  mpirun --oversubscribe -np "$1" "$build/bin/search" --recipe "$here/throughput.yaml" \
    --profile "$work/profile.json" --output "$out" --fresh --quiet --no-final-train > "$out.log" 2>&1
  python3 -c "import json; s=json.load(open('$out/search.json')); print(s['trained'], s['seconds'], s['best'])"
}
run 1 warm > /dev/null  # the profile, once, and a warm page cache
declare -A rate best
for r in $(seq 1 "$reps"); do
  for np in 1 2; do
    read -r trained seconds winner < <(run "$np" "$r")
    rate[$np]+="$(python3 -c "print(60*$trained/$seconds)") "; best[$np]=$winner
    echo "rep $r, $np rank(s): $trained candidates in $seconds s"
  done
done
read -r trained seconds winner < <(run "$more" 1)
python3 - "${rate[1]}" "${rate[2]}" "${best[1]}" "${best[2]}" "$more" "$trained" "$seconds" "$winner" <<'PY'
import statistics, sys
r1 = [float(x) for x in sys.argv[1].split()]; r2 = [float(x) for x in sys.argv[2].split()]
m1, m2 = statistics.median(r1), statistics.median(r2)
print(f"\n{'ranks':>6} {'candidates/min (median)':>24} {'runs':>5}")
print(f"{1:>6} {m1:>24.1f} {len(r1):>5}")
print(f"{2:>6} {m2:>24.1f} {len(r2):>5}")
print(f"ratio 2 ranks / 1 rank: {m2 / m1:.2f}x (goal >= 1.8x)")
more, trained, seconds, winner = sys.argv[5], int(sys.argv[6]), float(sys.argv[7]), sys.argv[8]
print(f"{more} ranks oversubscribed: {60 * trained / seconds:.1f} candidates/min; "
      f"winner {'the same' if winner == sys.argv[3] == sys.argv[4] else 'DIFFERENT'} (ids {sys.argv[3]}, {sys.argv[4]}, {winner})")
PY
