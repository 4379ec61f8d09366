#!/usr/bin/env bash
# Installs every Debian package the project needs (idempotent: installs only what is missing).
# Needs root (or sudo) and the Debian archive. The CUDA toolkit is not a Debian package here:
# where nvcc is on PATH the CUDA parts are built, otherwise they are skipped.
#
#   ci/bootstrap.sh                 install what is missing
#   ci/bootstrap.sh --vendor DIR    also gather the headers and static libraries the GPU build
#                                   needs into DIR (about 20 MB; no Boost: the build there uses
#                                   -DARTABPFN_WITH_MULTIPRECISION=OFF), nanobind's source (the
#                                   Python extension, -DARTABPFN_PYTHON=ON) and the wheels of the
#                                   Python tests (DIR/wheels, for Python 3.12 too; about 6 MB),
#                                   for air-gapped runners: copy DIR there and run
#                                   `ci/gpu.sh --deps DIR` (docs/python.md for the Python tests).
set -euo pipefail

vendor_dir=""
while (($#)); do
  case "$1" in
    --vendor) vendor_dir=${2:?--vendor needs a directory}; shift 2 ;;
    --vendor=*) vendor_dir=${1#--vendor=}; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bootstrap: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

packages=(
  cmake ninja-build g++          # build
  libgtest-dev libgmock-dev      # GoogleTest (and GoogleMock's matchers)
  librapidcheck-dev              # property tests
  libeigen3-dev                  # the reference (Eigen 3.4)
  libboost-dev                   # Boost.Multiprecision (50-digit reference)
  librandom123-dev               # Philox: the same draws on CPU and GPU
  nlohmann-json3-dev             # safetensors headers, reports
  libcli11-dev                   # the command line
  libfmt-dev                     # formatting
  libssl-dev                     # SHA-256 (libcrypto) for checksums and manifests
  clang libclang-rt-14-dev       # libFuzzer for the safetensors fuzz target
  python3                        # ci/gpu.sh's JSON summary
  python3-dev python3-venv python3-pip  # the Python package: its extension's headers, pip install . in a venv
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "bootstrap: all ${#packages[@]} packages present"
else
  echo "bootstrap: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Python packages of the conformance runner (python/artabpfn_conformance): numpy and safetensors,
# and ml_dtypes (the NumPy example's bfloat16), from PyPI, only when python3 cannot import them.
if ! python3 -c "import numpy, safetensors, ml_dtypes" 2>/dev/null; then
  echo "bootstrap: pip install numpy safetensors ml_dtypes"
  python3 -m pip install --quiet numpy safetensors ml_dtypes ||
    python3 -m pip install --quiet --break-system-packages numpy safetensors ml_dtypes ||
    echo "bootstrap: could not install numpy/safetensors/ml_dtypes: the Python conformance tests will skip" >&2
fi

[ -n "$vendor_dir" ] || exit 0

# nanobind (pinned as pyproject.toml asks) is needed to build the Python extension in place:
# its wheel holds the source and CMake package. The Python tests' wheels for this Python and for
# 3.12 (the GPU runners' Python), from PyPI, without their dependencies: pytest and Hypothesis
# with theirs, safetensors, ml_dtypes. Not NumPy (about 16 MB a Python version): a runner with
# PyTorch has it.
nanobind_version=3.1.0
python_wheels() {  # python_wheels DEST [pip download options]
  local dest=$1; shift
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$dest" "$@" "nanobind==$nanobind_version" \
    pytest iniconfig packaging pluggy pygments hypothesis sortedcontainers safetensors ml_dtypes
}

# --- Vendoring for air-gapped runners ------------------------------------------------------
# Layout of DIR:
#   include/                  headers (Eigen under include/eigen3, as Debian has it)
#   lib/                      static libraries: gtest, gmock, rapidcheck, libcrypto
#   cmake/<Package>/          minimal <Package>Config.cmake + ConfigVersion.cmake (written here:
#                             Debian's config files are written for /usr and its multiarch
#                             layout, and fmt's points at a shared library)
#   deps.cmake                initial-cache script: `cmake -C DIR/deps.cmake ...`
#   licenses/, VERSIONS.txt   copyright files and the versions gathered
# fmt is used header-only (FMT_HEADER_ONLY): Debian ships no static libfmt.
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
libdir=/usr/lib/$multiarch
mkdir -p "$vendor_dir"
vendor_dir=$(cd "$vendor_dir" && pwd)
rm -rf "${vendor_dir:?}"/{include,lib,cmake,licenses,wheels,nanobind}
mkdir -p "$vendor_dir"/{include/eigen3,lib,cmake,licenses,wheels}
python_wheels "$vendor_dir/wheels"
python_wheels "$vendor_dir/wheels" --python-version 3.12 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux_2_28_x86_64
python3 -m zipfile -e "$vendor_dir/wheels/nanobind-$nanobind_version-py3-none-any.whl" "$vendor_dir/nanobind-wheel"
mv "$vendor_dir/nanobind-wheel/nanobind" "$vendor_dir/nanobind" && rm -rf "$vendor_dir/nanobind-wheel"

version_of() {  # upstream version of a Debian package: 1:3.4.0-4 -> 3.4.0
  dpkg-query -W -f='${Version}' "$1" | sed -E 's/^[0-9]+://; s/^([0-9.]+).*/\1/'
}
copy() {  # copy SRC... into DIR/$dest, preserving names
  local dest=$1; shift
  mkdir -p "$vendor_dir/$dest"
  cp -a "$@" "$vendor_dir/$dest/"
}
write_version_file() {  # Package version: any newer request fails, older ones match
  cat > "$vendor_dir/cmake/$1/$1ConfigVersion.cmake" <<EOF
set(PACKAGE_VERSION "$2")
if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
  if(PACKAGE_FIND_VERSION VERSION_EQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()
EOF
}
write_config() {  # Package version body (the body sees _root: DIR)
  mkdir -p "$vendor_dir/cmake/$1"
  {
    echo "# Written by ci/bootstrap.sh --vendor: $1 $2 from the Debian packages, relocatable."
    echo 'get_filename_component(_root "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)'
    echo "$3"
    echo "set($1_FOUND TRUE)"
  } > "$vendor_dir/cmake/$1/$1Config.cmake"
  write_version_file "$1" "$2"
}

# Headers.
cp -a /usr/include/eigen3/Eigen /usr/include/eigen3/signature_of_eigen3_matrix_library "$vendor_dir/include/eigen3/"
copy include /usr/include/Random123 /usr/include/nlohmann /usr/include/CLI /usr/include/fmt \
  /usr/include/rapidcheck /usr/include/rapidcheck.h /usr/include/gtest /usr/include/gmock /usr/include/openssl
cp -a /usr/include/"$multiarch"/openssl/. "$vendor_dir/include/openssl/"   # configuration.h, opensslconf.h

# Static libraries.
copy lib "$libdir"/libgtest.a "$libdir"/libgtest_main.a "$libdir"/libgmock.a "$libdir"/libgmock_main.a \
  "$libdir"/librapidcheck.a "$libdir"/libcrypto.a

# Config files.
write_config Eigen3 "$(version_of libeigen3-dev)" '
if(NOT TARGET Eigen3::Eigen)
  add_library(Eigen3::Eigen INTERFACE IMPORTED)
  set_target_properties(Eigen3::Eigen PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_root}/include/eigen3")
endif()
set(EIGEN3_INCLUDE_DIR "${_root}/include/eigen3")
set(EIGEN3_INCLUDE_DIRS "${_root}/include/eigen3")'
write_config nlohmann_json "$(version_of nlohmann-json3-dev)" '
if(NOT TARGET nlohmann_json::nlohmann_json)
  add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
  set_target_properties(nlohmann_json::nlohmann_json PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_root}/include")
endif()'
write_config CLI11 "$(version_of libcli11-dev)" '
if(NOT TARGET CLI11::CLI11)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  set_target_properties(CLI11::CLI11 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_root}/include")
endif()'
write_config fmt "$(version_of libfmt-dev)" '
foreach(_target IN ITEMS fmt::fmt fmt::fmt-header-only)
  if(NOT TARGET ${_target})
    add_library(${_target} INTERFACE IMPORTED)
    set_target_properties(${_target} PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${_root}/include" INTERFACE_COMPILE_DEFINITIONS "FMT_HEADER_ONLY=1")
  endif()
endforeach()'
write_config GTest "$(version_of libgtest-dev)" '
include(CMakeFindDependencyMacro)
find_dependency(Threads)
foreach(_lib IN ITEMS gtest gtest_main gmock gmock_main)
  if(NOT TARGET GTest::${_lib})
    add_library(GTest::${_lib} STATIC IMPORTED)
    set_target_properties(GTest::${_lib} PROPERTIES
      IMPORTED_LOCATION "${_root}/lib/lib${_lib}.a"
      INTERFACE_INCLUDE_DIRECTORIES "${_root}/include"
      INTERFACE_COMPILE_DEFINITIONS "GTEST_HAS_PTHREAD=1")
  endif()
endforeach()
set_target_properties(GTest::gtest PROPERTIES INTERFACE_LINK_LIBRARIES Threads::Threads)
set_target_properties(GTest::gtest_main PROPERTIES INTERFACE_LINK_LIBRARIES GTest::gtest)
set_target_properties(GTest::gmock PROPERTIES INTERFACE_LINK_LIBRARIES GTest::gtest)
set_target_properties(GTest::gmock_main PROPERTIES INTERFACE_LINK_LIBRARIES GTest::gmock)
# The names FindGTest gives, for code that uses them.
if(NOT TARGET GTest::GTest)
  add_library(GTest::GTest INTERFACE IMPORTED)
  set_target_properties(GTest::GTest PROPERTIES INTERFACE_LINK_LIBRARIES GTest::gtest)
  add_library(GTest::Main INTERFACE IMPORTED)
  set_target_properties(GTest::Main PROPERTIES INTERFACE_LINK_LIBRARIES GTest::gtest_main)
endif()'
write_config rapidcheck 0 '
if(NOT TARGET rapidcheck)
  add_library(rapidcheck STATIC IMPORTED)
  set_target_properties(rapidcheck PROPERTIES
    IMPORTED_LOCATION "${_root}/lib/librapidcheck.a" INTERFACE_INCLUDE_DIRECTORIES "${_root}/include")
  # The extras are headers only (rapidcheck/gtest.h, rapidcheck/gmock.h).
  foreach(_extra IN ITEMS rapidcheck_gtest rapidcheck_gmock)
    add_library(${_extra} INTERFACE IMPORTED)
    set_target_properties(${_extra} PROPERTIES INTERFACE_LINK_LIBRARIES rapidcheck)
  endforeach()
endif()'

# The initial-cache script: find_package() and find_path() land in DIR, and nothing else is
# needed from the system but the compilers, CMake and the CUDA toolkit.
cat > "$vendor_dir/deps.cmake" <<'EOF'
# Vendored dependencies (ci/bootstrap.sh --vendor): `cmake -C DIR/deps.cmake -S . -B build ...`
# or `ci/gpu.sh --deps DIR`. Relocatable: paths are taken from where this file is.
get_filename_component(_artabpfn_deps "${CMAKE_CURRENT_LIST_DIR}" ABSOLUTE)
set(ARTABPFN_DEPS_DIR "${_artabpfn_deps}" CACHE PATH "Vendored dependencies (ci/bootstrap.sh --vendor)")
set(CMAKE_PREFIX_PATH "${_artabpfn_deps}" CACHE STRING "")
foreach(_package IN ITEMS Eigen3 nlohmann_json CLI11 fmt GTest rapidcheck)
  set(${_package}_DIR "${_artabpfn_deps}/cmake/${_package}" CACHE PATH "" FORCE)
endforeach()
# FindOpenSSL (static libcrypto; the project sets OPENSSL_USE_STATIC_LIBS).
set(OPENSSL_ROOT_DIR "${_artabpfn_deps}" CACHE PATH "" FORCE)
set(OPENSSL_INCLUDE_DIR "${_artabpfn_deps}/include" CACHE PATH "" FORCE)
set(OPENSSL_CRYPTO_LIBRARY "${_artabpfn_deps}/lib/libcrypto.a" CACHE FILEPATH "" FORCE)
set(RANDOM123_INCLUDE_DIR "${_artabpfn_deps}/include" CACHE PATH "" FORCE)
# Boost is not vendored: no 50-digit reference (its tests are not built).
set(ARTABPFN_WITH_MULTIPRECISION OFF CACHE BOOL "" FORCE)
# nanobind's CMake package, for -DARTABPFN_PYTHON=ON (docs/python.md).
set(nanobind_DIR "${_artabpfn_deps}/nanobind/cmake" CACHE PATH "" FORCE)
EOF

# Provenance.
{
  echo "Gathered by ci/bootstrap.sh --vendor on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "from $( . /etc/os-release && echo "$PRETTY_NAME") ($multiarch), packages:"
  for p in libeigen3-dev librandom123-dev nlohmann-json3-dev libcli11-dev libfmt-dev \
           librapidcheck-dev libgtest-dev libgmock-dev libssl-dev; do
    echo "  $p $(dpkg-query -W -f='${Version}' "$p")"
    [ -f "/usr/share/doc/$p/copyright" ] && cp "/usr/share/doc/$p/copyright" "$vendor_dir/licenses/$p.copyright"
  done
} > "$vendor_dir/VERSIONS.txt"
echo "bootstrap: vendored into $vendor_dir ($(du -sh "$vendor_dir" | cut -f1)); use: ci/gpu.sh --deps $vendor_dir"
