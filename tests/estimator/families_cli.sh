#!/usr/bin/env bash
# Every example architecture of the block families (ResNet-8/20/32, the HAR
# 1-D CNN, the LSTM and the Transformer) trains and is measured by `measure`
# (cpu-model, a few iterations; the LSTM and the Transformer fed Fashion-MNIST
# as row sequences, the HAR net generated HAR-shaped windows), and is profiled
# and estimated by `profile` + `estimate --measure` (sim meter: the pipeline,
# not the device; the same data), with the estimate within 5 % of the
# measurement, which was fed what the profile was.
set -euo pipefail
bin=$1 src=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir"
failed=0
data_of() {
  case $1 in
    lstm_fmnist | transformer_fmnist) echo fashion-mnist ;;
    har_cnn) echo har-generated ;;
    *) echo "" ;;
  esac
}
for f in resnet8 resnet20 resnet32 har_cnn lstm_fmnist transformer_fmnist; do
  arch=$src/recipes/arch/$f.yaml
  data=$(data_of "$f")
  args=()
  [ -n "$data" ] && args=(--data "$data")
  "$bin/measure" --meter cpu-model --arch "$arch" --iterations 3 --repeats 1 --warmup 1 \
    --min-window 0 --min-warmup 0 "${args[@]}" >"$dir/$f.measure.txt"
  if [ -n "$data" ] && ! grep -q "fed: .*${data%%-generated}" "$dir/$f.measure.txt"; then
    echo "FAIL: $f was not fed $data:"; cat "$dir/$f.measure.txt"; failed=$((failed + 1))
  fi
  # Profiled on the same data: estimate --measure reloads it by the name the profile records.
  "$bin/profile" --arch "$arch" --meter sim --out "$dir/$f.json" --batches 1 --repeats 1 \
    --warmup 0 --min-window 0 --min-warmup 0 --anchors 1 --quiet "${args[@]}" >/dev/null
  "$bin/estimate" --profile "$dir/$f.json" --arch "$arch" --measure --meter sim --json \
    >"$dir/$f.estimate.json"
  feed=$(sed -n 's/^  fed: //p' "$dir/$f.measure.txt")
  if python3 - "$dir/$f.estimate.json" "$feed" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
e, m = d["joules_per_iteration"], d["measured_joules_per_iteration"]
print(f"estimate {e:.4g} J/iter, measured {m:.4g}, fed {d['measured_feed']}")
sys.exit(0 if abs(e / m - 1) < 0.05 and d["measured_feed"] == sys.argv[2] else 1)
PY
  then
    echo "ok: $f"
  else
    echo "FAIL: $f estimate off"; failed=$((failed + 1))
  fi
done
[ "$failed" -eq 0 ] || { echo "$failed failed"; exit 1; }
echo "6 families passed"
