#!/usr/bin/env bash
# Builds everything and runs every test that this machine can run (GPU tests skip with a
# message where there is no GPU), installs the Python package and runs its tests, then fuzzes
# the safetensors reader briefly.
#   ci/test.sh [BUILD_DIR]      default BUILD_DIR: build
# Environment: ARTABPFN_SLOW_TESTS=1 also registers and runs the 'slow' tests;
# RC_PARAMS is passed to RapidCheck (default: a fixed seed, 100 cases per property), and
# HYPOTHESIS_SEED to the Python tests' Hypothesis (default: the same fixed seed), so that a run is
# reproduced by its seeds.
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
# The Python package, installed as docs/python.md says into a virtual environment (pip builds the
# extension once, in build/pip: about 5 to 10 minutes on 2 cores), then its tests against this
# build's command line.
python3 -m venv "$build/python-env"
"$build/python-env/bin/python" -m pip install --quiet ".[testing]"
ARTABPFN_CLI="$build/apps/artabpfn" "$build/python-env/bin/python" -m pytest tests/python -q -p no:cacheprovider \
  --hypothesis-seed "${HYPOTHESIS_SEED:-20261125}"
ci/fuzz.sh
