#!/usr/bin/env bash
# estimate --torchscript on models scripted by Python PyTorch: LeNet-5 maps to
# the same layer kinds (and energy) as recipes/arch/lenet5.yaml; a Sigmoid is
# refused with a message naming the module.
set -euo pipefail
bin=$1 src=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir"
/usr/bin/python3 "$src/tests/estimator/make_torchscript.py" "$dir"
"$bin/profile" --arch "$src/recipes/arch/lenet5.yaml" --meter cpu-model --out "$dir/p.json" --max-points 4 --batches 5 --repeats 1 --min-window 0 --min-warmup 0 --anchors 1 --quiet >/dev/null
yaml=$("$bin/estimate" --profile "$dir/p.json" --arch "$src/recipes/arch/lenet5.yaml" --json)
ts=$("$bin/estimate" --profile "$dir/p.json" --torchscript "$dir/lenet.pt" --input-shape 1,28,28 --batch-size 32 --json)
j1=$(echo "$yaml" | sed -n 's/^  "joules_per_iteration": \(.*\),$/\1/p')
j2=$(echo "$ts" | sed -n 's/^  "joules_per_iteration": \(.*\),$/\1/p')
echo "yaml: $j1 J/iter, torchscript: $j2 J/iter"
[ -n "$j1" ] && [ "$j1" = "$j2" ] || { echo "FAIL: estimates differ"; exit 1; }
set +e
msg=$("$bin/estimate" --profile "$dir/p.json" --torchscript "$dir/sigmoid.pt" --input-shape 1,28,28 2>&1)
rc=$?
set -e
echo "$msg"
[ $rc -eq 2 ] || { echo "FAIL: exit $rc, expected 2"; exit 1; }
echo "$msg" | grep -q "module '1' of type 'Sigmoid'" || { echo "FAIL: module not named"; exit 1; }
echo "1 passed, 0 failed"
