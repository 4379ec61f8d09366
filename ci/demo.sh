#!/usr/bin/env bash
# Builds the command line and runs the main job on the bundled default: `artabpfn demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/bootstrap.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build --target artabpfn -j "$(nproc)"
build/apps/artabpfn demo
