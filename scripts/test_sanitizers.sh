#!/usr/bin/env bash
# The test suite under AddressSanitizer and every UndefinedBehaviorSanitizer check, with line
# numbers in the reports: configures a separate build with MINICNN_SANITIZE=ON (top-level
# CMakeLists.txt), builds the tests and runs ctest. Any sanitizer report aborts the test that
# triggered it, so ctest fails. scripts/test.sh (CI) runs the whole suite with MINICNN_SANITIZE=QUICK,
# which leaves out UBSan's costliest checks to compile; this script is the complete run (about
# three times the compile time).
# Usage: bash scripts/test_sanitizers.sh [TEST...]
#   no argument: every test program (and the consumer builds); otherwise only the test programs
#   named (e.g. test_idx test_cifar test_checkpoint_file), to fit a time budget.
#   $MINICNN_BUILD_DIR  build directory (default build-sanitize)
#   $MINICNN_JOBS       parallel jobs (default nproc)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/install_deps.sh"
# chromium: test_report_html renders a report in it.
minicnn_install_deps chromium
build=${MINICNN_BUILD_DIR:-$root/build-sanitize}
jobs=${MINICNN_JOBS:-$(nproc)}

# RelWithDebInfo for the line numbers (-g; the sanitizer options lower -O2 to -O1). Examples are
# left out: the tests exercise the same headers.
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMINICNN_SANITIZE=ON \
  -DMINICNN_BUILD_TESTS=ON -DMINICNN_BUILD_EXAMPLES=OFF
selection=()
if [[ $# -gt 0 ]]; then
  # The program that holds a test file's cases: its folder's, <folder>_tests, for tests/<folder>/
  # (tests/CMakeLists.txt); its own for tests/test_*.cpp and for folders with a CMakeLists.txt.
  programs=()
  for name in "$@"; do
    source=$(find "$root/tests" -maxdepth 2 -name "$name.cpp" | head -1)
    folder=$(dirname "${source:-$root/tests/$name.cpp}")
    if [[ $folder == "$root/tests" || -f $folder/CMakeLists.txt ]]; then
      programs+=("$name")
    else
      programs+=("$(basename "$folder")_tests")
    fi
  done
  cmake --build "$build" -j "$jobs" --target "${programs[@]}"
  selection=(-R "^($(IFS='|'; echo "$*")):")   # ctest names are "test_idx:<test case>"
else
  cmake --build "$build" -j "$jobs"
fi

# halt_on_error/abort_on_error: the first report ends the test with a non-zero status. Leak
# detection stays on (ASan's default on Linux). Callers may override any option.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j "$jobs" "${selection[@]}"
