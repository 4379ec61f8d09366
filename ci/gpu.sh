#!/usr/bin/env bash
# The GPU gate: on a machine with an NVIDIA GPU, builds for the GPU found and runs every test
# (labels cpu and gpu) with ARTABPFN_EXPECT_GPU=1, so that a GPU test that would skip fails.
# Exits non-zero on any failure, a skipped GPU test, or when no GPU test ran.
#
#   ci/gpu.sh [--report-dir DIR] [--deps DIR | --prebuilt BUILD_DIR] [--sanitize] [--quick] [--python] [-j N]
#
#   --report-dir DIR   where the reports go (default: reports): junit.xml (ctest's JUnit XML),
#                      summary.json (tests run/passed/failed/skipped per label, GPUs, driver,
#                      CUDA, commit, build flags), ctest-resources.json, and the logs
#                      configure.log, build.log, ctest.log
#   --deps DIR         build offline against vendored dependencies (`ci/bootstrap.sh --vendor
#                      DIR` on a connected machine); no apt, no Boost (no multiprecision tests)
#   --prebuilt DIR     skip configure and build: run the tests of an existing build tree (its
#                      test files are pointed at this checkout's fixtures/)
#   --build-dir DIR    build tree to configure and build (default: build-gpu)
#   --sanitize         also run the `sanitize` tests (compute-sanitizer memcheck, racecheck,
#                      initcheck and synccheck over the quick GPU suite; slow)
#   --quick            only the `quick` tests (the GPU edge cases: every kernel, well under a minute)
#   --python           also build the Python module in place (-DARTABPFN_PYTHON=ON; a --prebuilt
#                      tree must have it) and run the Python tests (tests/python, the GPU ones
#                      included) with python3, into python.junit.xml and python.log; pytest and
#                      Hypothesis come from DIR/wheels with --deps where python3 lacks them
#   -j N               parallel build jobs and ctest jobs (default: nproc)
#   --gpu-slots N      tests that may share one GPU at a time (default 1: one test per card)
#   --timeout S        per-test time limit in seconds (default 1500)
#   --exclude REGEX    also leave out the tests whose labels match REGEX (ctest -LE)
#   --allow-no-gpu     for testing this script where there is no GPU: no ARTABPFN_EXPECT_GPU, no
#                      failure when no GPU test ran
#   --verify MODE      after the tests, `artabpfn verify` writes the verification report
#                      (verify.json, verify.junit.xml) into the report folder: full (default),
#                      quick, or none
#
# Environment: CUDA_VISIBLE_DEVICES (the GPUs used), ARTABPFN_CUDA_ARCHITECTURES (overrides the
# detected architectures), RC_PARAMS (default seed=20261125), HYPOTHESIS_SEED (the Python
# tests', default 20261125), ARTABPFN_SLOW_TESTS=1 (also the slow tests), ARTABPFN_GIT_COMMIT
# (recorded where the tree has no .git).
#
# Multi-GPU runners: ctest-resources.json lists one `gpus` resource per visible GPU (1 slot
# each) and ctest runs with --resource-spec-file, so `-j N` spreads the GPU tests (each holds
# gpus:1) over the cards, one test per card at a time; a test selects its card from
# CTEST_RESOURCE_GROUP_0_GPUS (ARTABPFN_REQUIRE_GPU()).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
report_dir=reports
deps=""
prebuilt=""
build="build-gpu"
sanitize=0
quick=0
allow_no_gpu=0
jobs=$(nproc)
timeout=1500
exclude=""
gpu_slots=1
verify=full
python=0

usage() { sed -n '2,39p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --report-dir) report_dir=${2:?}; shift 2 ;;
    --deps) deps=${2:?}; shift 2 ;;
    --prebuilt) prebuilt=${2:?}; shift 2 ;;
    --build-dir) build=${2:?}; shift 2 ;;
    --sanitize) sanitize=1; shift ;;
    --quick) quick=1; shift ;;
    --python) python=1; shift ;;
    -j) jobs=${2:?}; shift 2 ;;
    -j*) jobs=${1#-j}; shift ;;
    --jobs) jobs=${2:?}; shift 2 ;;
    --timeout) timeout=${2:?}; shift 2 ;;
    --gpu-slots) gpu_slots=${2:?}; shift 2 ;;
    --exclude) exclude=${2:?}; shift 2 ;;
    --allow-no-gpu) allow_no_gpu=1; shift ;;
    --verify) verify=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$jobs" =~ ^[0-9]+$ && "$jobs" -gt 0 ]] || { echo "gpu.sh: -j needs a positive number" >&2; exit 2; }
[[ "$gpu_slots" =~ ^[0-9]+$ && "$gpu_slots" -gt 0 ]] || { echo "gpu.sh: --gpu-slots needs a positive number" >&2; exit 2; }
[[ "$verify" =~ ^(full|quick|none)$ ]] || { echo "gpu.sh: --verify takes full, quick or none" >&2; exit 2; }
if [ -n "$deps" ] && [ -n "$prebuilt" ]; then
  echo "gpu.sh: --deps and --prebuilt exclude each other" >&2; exit 2
fi

mkdir -p "$report_dir"
report_dir=$(cd "$report_dir" && pwd)
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
build=$(abs "$build")
[ -z "$deps" ] || deps=$(cd "$deps" && pwd)
[ -z "$prebuilt" ] || { prebuilt=$(cd "$prebuilt" && pwd); build=$prebuilt; }
cd "$root"
say() { echo "gpu-ci: $*"; }

# --- The GPUs ---------------------------------------------------------------------------------
# nvcc and compute-sanitizer where the toolkit's usual place is not on PATH.
for d in /usr/local/cuda/bin /usr/local/cuda/compute-sanitizer; do
  [ -d "$d" ] && case ":$PATH:" in *":$d:"*) ;; *) PATH="$PATH:$d" ;; esac
done
export PATH
gpu_count=0
archs=""
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,driver_version,compute_cap,memory.total --format=csv,noheader |
    sed 's/^/gpu-ci: GPU /'
  if [ -n "${CUDA_VISIBLE_DEVICES:-}" ]; then
    gpu_count=$(awk -F, '{print NF}' <<<"$CUDA_VISIBLE_DEVICES")
  else
    gpu_count=$(nvidia-smi -L | grep -c '^GPU ' || true)
  fi
  archs=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null |
            tr -d ' .' | grep -E '^[0-9]+$' | sort -u | paste -sd';' || true)
fi
if ((gpu_count == 0)); then
  if ((allow_no_gpu)); then
    say "no NVIDIA GPU found; --allow-no-gpu: GPU tests will skip"
  else
    echo "gpu-ci: no NVIDIA GPU found (nvidia-smi missing or lists none); this is the GPU gate" >&2
    exit 2
  fi
fi
archs=${ARTABPFN_CUDA_ARCHITECTURES:-${archs:-90}}
say "$gpu_count GPU(s), CUDA architectures $archs, $gpu_slots test(s) per GPU at a time"

# The CTest resource spec: one `gpus` resource per visible GPU (--gpu-slots slots each). The
# ids are CUDA ordinals as a test process sees them (positions in CUDA_VISIBLE_DEVICES where
# that is set).
spec="$report_dir/ctest-resources.json"
{
  printf '{\n  "version": {"major": 1, "minor": 0},\n  "local": [\n    {\n      "gpus": ['
  n=$((gpu_count > 0 ? gpu_count : 1))
  for ((i = 0; i < n; ++i)); do
    ((i == 0)) || printf ','
    printf '\n        {"id": "%d", "slots": %d}' "$i" "$gpu_slots"
  done
  printf '\n      ]\n    }\n  ]\n}\n'
} > "$spec"

# --- Dependencies, configure, build -------------------------------------------------------------
cmake_args=()
build_seconds=""
if [ -n "$prebuilt" ]; then
  [ -f "$build/CMakeCache.txt" ] || { echo "gpu-ci: $build is not a build tree (no CMakeCache.txt)" >&2; exit 2; }
  say "prebuilt tree $build: not configuring or building"
  # Point the tree's test files at this checkout's fixtures (the tree may come from another
  # checkout or machine), and at this build tree and this CMake where it has moved.
  old_build=$(sed -n 's/^CMAKE_CACHEFILE_DIR:INTERNAL=//p' "$build/CMakeCache.txt")
  old_cmake_root=$(sed -n 's/^CMAKE_ROOT:INTERNAL=//p' "$build/CMakeCache.txt")
  cmake_root=$(cmake --system-information 2>/dev/null | sed -n 's/^CMAKE_ROOT "\(.*\)"$/\1/p' | head -1)
  mapfile -d '' test_files < <(find "$build" -path '*/CMakeFiles' -prune -o \
    \( -name 'CTestTestfile.cmake' -o -name '*_include.cmake' -o -name '*_tests.cmake' -o -name '*_properties.cmake' \) -print0)
  # First the files that regenerate the test lists, then the lists (so these stay newer).
  for pass in include rest; do
    for f in "${test_files[@]}"; do
      case "$pass:$f" in include:*_include.cmake) ;; rest:*_include.cmake|include:*) continue ;; esac
      sed -i -E "s#ARTABPFN_FIXTURES_DIR=[^];\" )]*#ARTABPFN_FIXTURES_DIR=$root/fixtures#g" "$f"
      if [ -n "$old_build" ] && [ "$old_build" != "$build" ]; then sed -i "s#$old_build#$build#g" "$f"; fi
      if [ -n "$old_cmake_root" ] && [ -n "$cmake_root" ] && [ ! -d "$old_cmake_root" ]; then
        sed -i "s#$old_cmake_root/#$cmake_root/#g" "$f"
      fi
    done
  done
  if [ -n "$old_build" ] && [ "$old_build" != "$build" ]; then
    say "the tree was built at $old_build; paths compiled into binaries (the CLI's, for cli_tests) still point there"
  fi
  if ! grep -q "^ARTABPFN_CUDA_ENABLED\|^CMAKE_CUDA_COMPILER:" "$build/CMakeCache.txt"; then
    say "warning: $build was configured without CUDA"
  fi
else
  if [ -n "$deps" ]; then
    [ -f "$deps/deps.cmake" ] || { echo "gpu-ci: $deps/deps.cmake missing (make it with ci/bootstrap.sh --vendor DIR)" >&2; exit 2; }
    say "offline build against $deps (no apt; ARTABPFN_WITH_MULTIPRECISION=OFF)"
    cmake_args+=(-C "$deps/deps.cmake" -DARTABPFN_WITH_MULTIPRECISION=OFF)
  else
    # Install what is missing where apt works; carry on with what is there where it does not.
    if command -v apt-get >/dev/null && command -v dpkg-query >/dev/null; then
      timeout 900 "$root/ci/bootstrap.sh" || say "bootstrap failed (offline?); continuing with what is installed"
    else
      say "no apt here; continuing with what is installed (see --deps for air-gapped runners)"
    fi
    # Boost.Multiprecision where it is installed, otherwise build without it.
    if [ ! -f /usr/include/boost/multiprecision/cpp_bin_float.hpp ]; then
      say "no Boost.Multiprecision headers: building without the multiprecision reference"
      cmake_args+=(-DARTABPFN_WITH_MULTIPRECISION=OFF)
    fi
  fi
  command -v nvcc >/dev/null || { echo "gpu-ci: nvcc not found (PATH or /usr/local/cuda/bin)" >&2; exit 2; }
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  if ((python)); then
    command -v python3 >/dev/null || { echo "gpu-ci: --python needs python3" >&2; exit 2; }
    cmake_args+=(-DARTABPFN_PYTHON=ON "-DPython_EXECUTABLE=$(command -v python3)")
    # nanobind: vendored with --deps (deps.cmake names it), else python3's, else from PyPI into
    # the build tree (the version pyproject.toml asks for).
    if [ -z "$deps" ] && ! python3 -c "import nanobind" 2>/dev/null; then
      python3 -m pip install --quiet --target "$build/python-build-deps" "nanobind>=3.1,<4" ||
        { echo "gpu-ci: --python: python3 has no nanobind and pip could not install it" >&2; exit 2; }
      cmake_args+=("-Dnanobind_DIR=$build/python-build-deps/nanobind/cmake")
    fi
  fi
  cmake_args+=("${generator[@]}" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CUDA_ARCHITECTURES=$archs"
               -DARTABPFN_WITH_CUDA=ON "-DARTABPFN_SLOW_TESTS=${ARTABPFN_SLOW_TESTS:-0}")
  say "cmake -S $root -B $build ${cmake_args[*]}"
  start=$SECONDS
  set +e
  cmake -S "$root" -B "$build" "${cmake_args[@]}" > "$report_dir/configure.log" 2>&1
  status=$?
  set -e
  if ((status != 0)); then
    tail -40 "$report_dir/configure.log"; echo "gpu-ci: configure failed (see $report_dir/configure.log)" >&2; exit 1
  fi
  grep -E "^-- artabpfn:" "$report_dir/configure.log" || true
  grep -q "artabpfn: CUDA enabled" "$report_dir/configure.log" ||
    { echo "gpu-ci: CUDA is not enabled in $build (see configure.log)" >&2; exit 1; }
  say "building with -j $jobs"
  set +e
  cmake --build "$build" -j "$jobs" > "$report_dir/build.log" 2>&1
  status=$?
  set -e
  build_seconds=$((SECONDS - start))
  if ((status != 0)); then
    grep -E "error|FAILED" "$report_dir/build.log" | head -40; echo "gpu-ci: build failed (see $report_dir/build.log)" >&2; exit 1
  fi
  say "configured and built in ${build_seconds} s"
fi

# --- Tests --------------------------------------------------------------------------------------
((allow_no_gpu)) || export ARTABPFN_EXPECT_GPU=1
export RC_PARAMS=${RC_PARAMS:-"seed=20261125"}
select=()
if ((quick)); then
  if ((sanitize)); then select=(-L '^(quick|sanitize)$'); else select=(-L '^quick$'); fi
fi
excluded=()
((sanitize)) || excluded+=(sanitize)
[ -z "$exclude" ] || excluded+=("$exclude")
if ((${#excluded[@]})); then
  select+=(-LE "^($(IFS='|'; echo "${excluded[*]}"))\$")
fi
ctest_args=(--test-dir "$build" -j "$jobs" --timeout "$timeout" --output-on-failure --no-tests=error
            --resource-spec-file "$spec" --output-junit "$report_dir/junit.xml" "${select[@]}")
say "ctest ${ctest_args[*]}"
ctest --test-dir "$build" --show-only=json-v1 "${select[@]}" > "$report_dir/tests.json" 2> "$report_dir/tests.err" || true
rm -f "$report_dir/junit.xml"
start=$SECONDS
set +e
ctest "${ctest_args[@]}" 2>&1 | tee "$report_dir/ctest.log" | grep -E --line-buffered \
  "tests passed|tests failed|Total Test time|\*\*\*Failed|\*\*\*Timeout|\*\*\*Exception|Not Run|Could not find|Insufficient resources"
ctest_status=${PIPESTATUS[0]}
set -e
test_seconds=$((SECONDS - start))
say "ctest exited with $ctest_status after ${test_seconds} s"

# The Python tests (docs/python.md, "Tests") against the module built in place and this build's
# command line; ARTABPFN_EXPECT_GPU=1 (above) turns their GPU skips into failures.
python_status=0
python_failure="the Python tests (see $report_dir/python.log)"
if ((python)); then
  if ! ls "$build"/python/artabpfn/_core*.so >/dev/null 2>&1; then
    python_status=1
    python_failure="--python, but $build has no Python module (configure it with -DARTABPFN_PYTHON=ON)"
  else
    pythonpath="$build/python"
    # What python3 lacks of the tests' packages goes into the build tree, not into python3 (a
    # runner's PyTorch often lives in a virtual environment of its own).
    missing=()
    for module in pytest hypothesis safetensors; do python3 -c "import $module" 2>/dev/null || missing+=("$module"); done
    if ((${#missing[@]})); then
      source_args=()  # PyPI, or the vendored wheels offline
      [ -z "$deps" ] || source_args=(--no-index --find-links "$deps/wheels")
      python3 -m pip install --quiet "${source_args[@]}" --target "$build/python-test-deps" "${missing[@]}" \
        > "$report_dir/python-deps.log" 2>&1 || say "could not install ${missing[*]} (see $report_dir/python-deps.log)"
      pythonpath="$pythonpath:$build/python-test-deps"
    fi
    start=$SECONDS
    set +e
    PYTHONPATH="$pythonpath${PYTHONPATH:+:$PYTHONPATH}" ARTABPFN_CLI="$build/apps/artabpfn" \
      python3 -m pytest tests/python -q -p no:cacheprovider --junitxml "$report_dir/python.junit.xml" \
      --hypothesis-seed "${HYPOTHESIS_SEED:-20261125}" \
      > "$report_dir/python.log" 2>&1
    python_status=$?
    set -e
    tail -3 "$report_dir/python.log"
    say "python tests exited with $python_status after $((SECONDS - start)) s (log: $report_dir/python.log)"
  fi
fi

# The verification report (docs/gpu_ci.md, "The verification report"): every kernel and engine
# job against the double reference, the properties with their case counts and seed, the environment.
verify_status=0
if [ "$verify" != none ]; then
  verify_args=(verify --tests-dir "$build" --report-dir "$report_dir" --fixtures "$root/fixtures")
  [ "$verify" = quick ] && verify_args+=(--quick)
  # The tests' seed, where RC_PARAMS is just a seed (verify's own default otherwise).
  [[ "$RC_PARAMS" =~ ^seed=([0-9]+)$ ]] && verify_args+=(--seed "${BASH_REMATCH[1]}")
  say "artabpfn ${verify_args[*]}"
  start=$SECONDS
  set +e
  "$build/apps/artabpfn" "${verify_args[@]}" > "$report_dir/verify.log" 2>&1
  verify_status=$?
  set -e
  tail -25 "$report_dir/verify.log"
  say "verify exited with $verify_status after $((SECONDS - start)) s (report: $report_dir/verify.json)"
fi

summary_args=(--junit "$report_dir/junit.xml" --tests-json "$report_dir/tests.json" --build-dir "$build"
              --source-dir "$root" --out "$report_dir/summary.json" --ctest-exit "$ctest_status"
              --test-seconds "$test_seconds" --resource-spec "$spec"
              --ctest-args "${ctest_args[*]}" --cmake-args "${cmake_args[*]:-}"
              --mode "$( ((quick)) && echo quick || echo full )$( ((sanitize)) && echo +sanitize || true)")
[ -z "$build_seconds" ] || summary_args+=(--build-seconds "$build_seconds")
[ -z "$deps" ] || summary_args+=(--deps "$deps")
[ -z "$prebuilt" ] || summary_args+=(--prebuilt)
((!allow_no_gpu)) || summary_args+=(--allow-no-gpu)
if command -v python3 >/dev/null; then
  set +e
  python3 "$root/ci/gpu_summary.py" "${summary_args[@]}"
  summary_status=$?
  set -e
  ((verify_status == 0)) || say "FAILED: artabpfn verify (see $report_dir/verify.log)"
  ((python_status == 0)) || say "FAILED: $python_failure"
  exit $((summary_status != 0 || verify_status != 0 || python_status != 0))
fi
say "python3 not found: no summary.json"
exit $((ctest_status != 0 || verify_status != 0 || python_status != 0))
