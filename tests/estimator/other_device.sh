#!/usr/bin/env bash
# A profile made on another device (THOR_CPU_MODEL plays the other CPU):
# `estimate` still estimates with it (that device's figure), but `--measure`
# is refused with one message saying why and how to fix it (exit 2).
# Usage: other_device.sh BIN_DIR ARCH_DIR WORK_DIR
set -euo pipefail
bin="$1"; arch="$2"; work="$3"
rm -rf "$work"; mkdir -p "$work"
THOR_CPU_MODEL="Another CPU 9000" "$bin/profile" --arch "$arch/lenet5.yaml" --meter sim \
  --out "$work/p.json" --max-points 3 --batches 1 --repeats 1 --warmup 0 --min-window 0 \
  --min-warmup 0 --anchors 1 --quiet > /dev/null
"$bin/estimate" --profile "$work/p.json" --arch "$arch/lenet5.yaml" > "$work/estimate.txt" \
  || { echo "FAIL: estimating with another device's profile failed"; exit 1; }
rc=0
"$bin/estimate" --profile "$work/p.json" --arch "$arch/lenet5.yaml" --measure --meter sim \
  > "$work/measure.txt" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || { echo "FAIL: exit $rc, expected 2"; cat "$work/measure.txt"; exit 1; }
grep -q "p.json: made on another device (cpu_model: Another CPU 9000 (profile) vs .* (host)); --measure here would compare two devices: profile this machine first" "$work/measure.txt" \
  || { echo "FAIL: message"; cat "$work/measure.txt"; exit 1; }
[ "$(wc -l < "$work/measure.txt")" -eq 1 ] || { echo "FAIL: more than one line"; cat "$work/measure.txt"; exit 1; }
echo "PASS: estimated with it; --measure refused in one line"
