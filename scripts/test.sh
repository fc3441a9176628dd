#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs missing Debian packages, configures a
# Release build with tests, examples and benchmarks (their smoke runs are CTest tests), builds,
# and runs ctest.
# Usage: bash scripts/test.sh            (build directory: build-test, or $MINICNN_BUILD_DIR)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/install_deps.sh"
minicnn_install_deps

build=${MINICNN_BUILD_DIR:-$root/build-test}
jobs=${MINICNN_JOBS:-$(nproc)}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMINICNN_BUILD_TESTS=ON \
  -DMINICNN_BUILD_EXAMPLES=ON -DMINICNN_BUILD_BENCHMARKS=ON
cmake --build "$build" -j "$jobs"
ctest --test-dir "$build" --output-on-failure -j "$jobs"
