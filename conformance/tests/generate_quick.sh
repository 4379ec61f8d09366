#!/usr/bin/env bash
# Generates the quick conformance set and holds it to its size budget (under 50 MB).
#   generate_quick.sh ARTABPFN_CLI OUT_DIR
set -euo pipefail
cli=$1 out=$2
rm -rf "$out"
"$cli" vectors --out "$out" --quick
bytes=$(du -sb "$out" | cut -f1)
echo "quick set: $(ls "$out" | wc -l) files, $bytes bytes"
if ((bytes >= 50000000)); then
  echo "FAIL: the quick set must stay under 50 MB"
  exit 1
fi
# One case regenerates alone, bit for bit (its seed depends only on the set's seed and its name).
single=$(mktemp -d)
trap 'rm -rf "$single"' EXIT
"$cli" vectors --out "$single" --quick --case fused_attention.tasks > /dev/null
cmp "$out/fused_attention.tasks.safetensors" "$single/fused_attention.tasks.safetensors"
echo "fused_attention.tasks regenerates alone bit for bit"
