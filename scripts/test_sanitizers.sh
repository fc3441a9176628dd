#!/usr/bin/env bash
# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer: configures a
# separate build with MINICNN_SANITIZE=ON (top-level CMakeLists.txt), builds every test and runs
# ctest. Any sanitizer report aborts the test that triggered it, so ctest fails.
# Usage: bash scripts/test_sanitizers.sh   (build directory: build-sanitize, or $MINICNN_BUILD_DIR;
#                                           parallel jobs: $MINICNN_JOBS, default nproc)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MINICNN_BUILD_DIR:-$root/build-sanitize}
jobs=${MINICNN_JOBS:-$(nproc)}

# RelWithDebInfo: optimised like the real builds (some bugs only show there), with line numbers
# in the reports. Examples are left out: the tests exercise the same headers.
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMINICNN_SANITIZE=ON \
  -DMINICNN_BUILD_TESTS=ON -DMINICNN_BUILD_EXAMPLES=OFF
cmake --build "$build" -j "$jobs"

# halt_on_error/abort_on_error: the first report ends the test with a non-zero status. Leak
# detection stays on (ASan's default on Linux). Callers may override any option.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j "$jobs"
