#!/usr/bin/env bash
# Builds the fuzz targets with clang (libFuzzer + ASan + UBSan) in their own build directory and
# runs each briefly, seeded with its checked-in corpus fuzz/corpus/<reader>/ and dictionary
# fuzz/<reader>.dict: safetensors_fuzz (the safetensors reader and weights loader) and csv_fuzz
# (the CSV task reader).
#   ci/fuzz.sh [seconds]      per target, default 30; ARTABPFN_FUZZ_BUILD_DIR overrides the build directory
# Exits non-zero when a fuzzer finds a crash, a sanitizer report or a leak; the input that
# triggered it is left in <build>/fuzz-artifacts/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ARTABPFN_FUZZ_BUILD_DIR:-$root/build-fuzz}"
seconds="${1:-30}"
readers=(safetensors csv)

generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
CC=clang CXX=clang++ cmake -S "$root" -B "$build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DARTABPFN_FUZZ=ON -DARTABPFN_WITH_CUDA=OFF -DARTABPFN_BUILD_TESTS=OFF -DARTABPFN_WITH_MULTIPRECISION=OFF
cmake --build "$build" --target "${readers[@]/%/_fuzz}"

artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
for reader in "${readers[@]}"; do
  # libFuzzer adds the inputs it finds to its first corpus directory: work on a copy, keep the seeds.
  corpus="$build/fuzz-corpus/$reader"
  rm -rf "$corpus"
  mkdir -p "$corpus"
  cp "$root/fuzz/corpus/$reader"/* "$corpus"/
  "$build/fuzz/${reader}_fuzz" "$corpus" \
    -dict="$root/fuzz/$reader.dict" \
    -max_total_time="$seconds" -max_len=4096 \
    -artifact_prefix="$artifacts/" -print_final_stats=1
done
