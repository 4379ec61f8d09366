#!/usr/bin/env bash
# Installs every Debian package the project needs (idempotent: installs only what is missing).
# Needs root (or sudo) and the Debian archive. The CUDA toolkit is not a Debian package here:
# where nvcc is on PATH the CUDA parts are built, otherwise they are skipped.
set -euo pipefail

packages=(
  cmake ninja-build g++          # build
  libgtest-dev                   # GoogleTest
  librapidcheck-dev              # property tests
  libeigen3-dev                  # the reference (Eigen 3.4)
  libboost-dev                   # Boost.Multiprecision (50-digit reference)
  librandom123-dev               # Philox: the same draws on CPU and GPU
  nlohmann-json3-dev             # safetensors headers, reports
  libcli11-dev                   # the command line
  libfmt-dev                     # formatting
  libssl-dev                     # SHA-256 (libcrypto) for checksums and manifests
  clang libclang-rt-14-dev       # libFuzzer for the safetensors fuzz target
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "bootstrap: all ${#packages[@]} packages present"
  exit 0
fi
echo "bootstrap: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
