#!/usr/bin/env bash
# The plots people look at, end to end on the sim device: `profile --plots`
# (one PNG per kind + index.txt), `profile --reuse --plots` on the complete
# profile (draws without profiling again), and `estimate` on two
# architectures with --measure: the table, the JSON array and --plot.
set -euo pipefail
bin=$1 arch=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; }
half=$dir/lenet5_half.yaml
sed 's/out: 6,/out: 3,/; s/out: 16,/out: 8,/; s/out: 120}/out: 60}/' "$arch/lenet5.yaml" > "$half"
args=(--arch "$arch/lenet5.yaml" --meter sim --out "$dir/p.json" --max-points 6 --batches 1
      --repeats 1 --warmup 0 --min-window 0 --min-warmup 0 --anchors 2 --quiet)

"$bin/profile" "${args[@]}" --plots "$dir/kinds"
kinds=$(grep -vc '^#' "$dir/kinds/index.txt")
[ "$kinds" -ge 4 ] || fail "index.txt lists $kinds kinds"
while IFS=$'\t' read -r file key; do
  [[ $file == \#* ]] && continue
  is_png "$dir/kinds/$file" || fail "$file ($key) is not a PNG"
done < "$dir/kinds/index.txt"
[ "$(ls "$dir/kinds" | wc -l)" -eq $((kinds + 1)) ] || fail "other files left in $dir/kinds"

log=$("$bin/profile" "${args[@]}" --reuse --plots "$dir/kinds2")
echo "$log"
grep -q "reusing the complete profile" <<< "$log" || fail "the complete profile was not reused"
cmp "$dir/kinds/index.txt" "$dir/kinds2/index.txt" || fail "reused profile drew other plots"

table=$("$bin/estimate" --profile "$dir/p.json" --arch "$arch/lenet5.yaml" --arch "$half" \
        --measure --meter sim --iterations 100 --plot "$dir/scatter.png")
echo "$table"
grep -q "^lenet5 " <<< "$table" || fail "no lenet5 row"
grep -q "^lenet5_half " <<< "$table" || fail "no lenet5_half row"
grep -q "^MAPE .* of 2 .* inside the ±2σ interval" <<< "$table" || fail "no summary line"
is_png "$dir/scatter.png" || fail "scatter.png is not a PNG"

json=$("$bin/estimate" --profile "$dir/p.json" --arch "$arch/lenet5.yaml" --arch "$half" --json)
[ "${json:0:1}" = "[" ] || fail "--json with two --arch is not an array"
[ "$(grep -c '"name":' <<< "$json")" -eq 2 ] || fail "the array does not hold two estimates"
one=$("$bin/estimate" --profile "$dir/p.json" --arch "$arch/lenet5.yaml" --json)
[ "${one:0:1}" = "{" ] || fail "--json with one --arch is not an object"
echo "1 passed, 0 failed"
