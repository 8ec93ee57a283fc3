#!/usr/bin/env bash
# estimate --torchscript on torchvision's resnet18 and an LSTM classifier
# (the fixture torchscript_models scripts them) with a LeNet-5 profile: its
# kinds do not cover ResNet or LSTM blocks, so estimating is refused (exit 2)
# unless --flops-fallback is given; a 2-D shape needs --layout; a GRU is
# refused naming the module.
set -euo pipefail
bin=$1 src=$2 models=$3 dir=$4
rm -rf "$dir" && mkdir -p "$dir"
"$bin/profile" --arch "$src/recipes/arch/lenet5.yaml" --meter cpu-model --out "$dir/p.json" --max-points 4 --batches 5 --repeats 1 --min-window 0 --min-warmup 0 --anchors 1 --quiet >/dev/null
failed=0
# expect CODE REGEX ARGS...: estimate exits with CODE and prints something matching REGEX.
expect() {
  local code=$1 regex=$2 rc=0 out
  shift 2
  out=$("$bin/estimate" --profile "$dir/p.json" "$@" 2>&1) || rc=$?
  if [ "$rc" -ne "$code" ] || ! grep -Eq -- "$regex" <<<"$out"; then
    echo "FAIL: estimate $* exited $rc (expected $code), output:"
    echo "$out"
    failed=$((failed + 1))
  else
    echo "ok: estimate $* -> $rc"
  fi
}
expect 2 "the profile has no model for layer kind 'input:conv\(k7" --torchscript "$models/resnet18.pt" --input-shape 3,32,32
expect 0 '"message": "FLOPs fallback for: .*residual' --torchscript "$models/resnet18.pt" --input-shape 3,32,32 --flops-fallback --json
expect 0 'lstm' --torchscript "$models/lstm.pt" --input-shape 128,9 --layout sequence --flops-fallback
expect 2 "a 2-D input shape needs a layout" --torchscript "$models/lstm.pt" --input-shape 128,9
expect 2 "--layout 'time': expected channels, sequence or tokens" --torchscript "$models/lstm.pt" --input-shape 128,9 --layout time
expect 2 "module 'rnn' of type 'GRU' cannot be mapped" --torchscript "$models/gru.pt" --input-shape 128,9 --layout sequence
[ "$failed" -eq 0 ] || { echo "$failed failed"; exit 1; }
echo "6 passed, 0 failed"
