#!/usr/bin/env bash
# Builds the safetensors fuzz target with clang (libFuzzer + ASan + UBSan) in its own build
# directory and runs it briefly, seeded with the checked-in corpus fuzz/corpus/.
#   ci/fuzz.sh [seconds]      default 30; ARTABPFN_FUZZ_BUILD_DIR overrides the build directory
# Exits non-zero when the fuzzer finds a crash, a sanitizer report or a leak; the input that
# triggered it is left in <build>/fuzz-artifacts/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ARTABPFN_FUZZ_BUILD_DIR:-$root/build-fuzz}"
seconds="${1:-30}"

generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
CC=clang CXX=clang++ cmake -S "$root" -B "$build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DARTABPFN_FUZZ=ON -DARTABPFN_WITH_CUDA=OFF -DARTABPFN_BUILD_TESTS=OFF -DARTABPFN_WITH_MULTIPRECISION=OFF
cmake --build "$build" --target safetensors_fuzz

# libFuzzer adds the inputs it finds to its first corpus directory: work on a copy, keep the seeds.
corpus="$build/fuzz-corpus"
artifacts="$build/fuzz-artifacts"
rm -rf "$corpus"
mkdir -p "$corpus" "$artifacts"
cp "$root"/fuzz/corpus/* "$corpus"/

"$build/fuzz/safetensors_fuzz" "$corpus" \
  -dict="$root/fuzz/safetensors.dict" \
  -max_total_time="$seconds" -max_len=4096 \
  -artifact_prefix="$artifacts/" -print_final_stats=1
