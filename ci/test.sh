#!/usr/bin/env bash
# Builds everything and runs every test that this machine can run (GPU tests skip with a
# message where there is no GPU), then fuzzes the safetensors reader briefly.
#   ci/test.sh [BUILD_DIR]      default BUILD_DIR: build
# Environment: ARTABPFN_SLOW_TESTS=1 also registers and runs the 'slow' tests;
# RC_PARAMS is passed to RapidCheck (default: a fixed seed, 100 cases per property).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
jobs=$(nproc)

ci/bootstrap.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DARTABPFN_SLOW_TESTS="${ARTABPFN_SLOW_TESTS:-0}"
cmake --build "$build" -j "$jobs"
export RC_PARAMS=${RC_PARAMS:-"seed=20261125"}
# The compute-sanitizer tests (label sanitize) need a GPU and are slow: ci/gpu.sh --sanitize runs them.
ctest --test-dir "$build" -j "$jobs" --output-on-failure --timeout 1500 -LE sanitize
ci/fuzz.sh
