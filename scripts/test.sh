#!/usr/bin/env bash
# The whole test suite, from a fresh machine (README's test command; CI runs exactly this):
#  1. installs the missing Debian packages (chromium too, for the browser test of report.html);
#  2. builds the tests, the examples and the benchmarks once, instrumented with AddressSanitizer
#     and UndefinedBehaviorSanitizer (MINICNN_SANITIZE=QUICK, -O1: see CMakeLists.txt), so that
#     every test also proves there is no memory error, leak or undefined behaviour on its path
#     (any report is fatal and fails the test that triggered it);
#  3. runs each libFuzzer target (fuzz/) for 30 s on its generated seed corpus;
#  4. runs ctest: the doctest cases one by one, the consumer builds (find_package and
#     add_subdirectory), the CIFAR trainers end to end and the benchmarks' smoke runs. Last, so
#     that its summary closes the output.
# One instrumented build instead of a plain one plus an instrumented one, and the test files of each
# folder compiled together (tests/CMakeLists.txt), bring the whole run towards 20 minutes on 2 cores
# (docs/reliability.md, "The cost of the test command"). Each phase prints its CPU seconds (user and
# system, its child processes included) and its wall seconds. scripts/train_mnist.sh builds the
# uninstrumented Release programs.
#
# Usage: bash scripts/test.sh
#   $MINICNN_BUILD_DIR     build directory (default build-test)
#   $MINICNN_JOBS          parallel jobs (default nproc)
#   $MINICNN_SANITIZE      QUICK (default), ON (every UBSan check) or OFF (uninstrumented -O3)
#   $MINICNN_FUZZ_SECONDS  seconds per fuzz target (default 30; 0 skips fuzzing)
#   $MINICNN_BUILD_TIMES   if set, a log file: the CPU seconds of every compile and link
#                          (scripts/time_command.sh), summed per program at the end of the build
#                          by scripts/build_times.py
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/install_deps.sh"
# bash's `time` of a phase: user and system seconds of the phase and of every process it waited for.
phase_time() { TIMEFORMAT="test.sh: $1: %U s user + %S s system CPU, %R s wall"; }
# chromium: test_report_html renders a report.html in headless Chromium and checks its charts.
# libonnx-dev, libprotobuf-dev: the minicnn::onnx component; libonnx-testdata: ONNX's own
# conformance cases, which its tests run; python3-torch, python3-torchvision: the ONNX importer's
# test regenerates torchvision's ResNet-18 and MobileNetV2 with PyTorch (tools/make_onnx_models.py).
# nodejs, npm: ONNX Runtime (npm onnxruntime-node, installed into the build tree) runs the exported
# files, from Debian when the machine has no npm (a machine may bring a Node.js of its own, which
# includes npm and conflicts with Debian's npm package); libopencv-dnn-dev: OpenCV's dnn module runs
# them too. openmpi-bin, libopenmpi-dev: the minicnn::mpi component and its tests under mpirun.
node_packages=()
command -v npm >/dev/null || node_packages=(nodejs npm)
phase_time packages
time minicnn_install_deps chromium libonnx-dev libprotobuf-dev libonnx-testdata python3-torch \
  python3-torchvision libopencv-dnn-dev openmpi-bin libopenmpi-dev "${node_packages[@]}"

build=${MINICNN_BUILD_DIR:-$root/build-test}
jobs=${MINICNN_JOBS:-$(nproc)}
sanitize=${MINICNN_SANITIZE:-QUICK}
fuzz_seconds=${MINICNN_FUZZ_SECONDS:-30}

launchers=()
if [[ -n ${MINICNN_BUILD_TIMES:-} ]]; then
  minicnn_install_deps time  # /usr/bin/time, which scripts/time_command.sh runs
  launchers=(-DCMAKE_CXX_COMPILER_LAUNCHER="$root/scripts/time_command.sh"
             -DCMAKE_CXX_LINKER_LAUNCHER="$root/scripts/time_command.sh")
  export MINICNN_BUILD_TIMES
fi
phase_time configure
time cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMINICNN_SANITIZE="$sanitize" \
  -DMINICNN_BUILD_TESTS=ON -DMINICNN_BUILD_EXAMPLES=ON -DMINICNN_BUILD_BENCHMARKS=ON "${launchers[@]}"
phase_time build
time cmake --build "$build" -j "$jobs"
if [[ -n ${MINICNN_BUILD_TIMES:-} ]]; then
  python3 "$root/scripts/build_times.py" "$MINICNN_BUILD_TIMES"
fi

if [[ $fuzz_seconds != 0 ]]; then
  phase_time "fuzz (build and run)"
  time MINICNN_FUZZ_DIR=${MINICNN_FUZZ_DIR:-$build/fuzz} MINICNN_FUZZ_JOBS=$jobs \
    bash "$root/scripts/fuzz.sh" "$fuzz_seconds"
fi

# halt_on_error/abort_on_error: the first report ends the program with a non-zero status. Leak
# detection stays on (ASan's default on Linux). Callers may override any option.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# ctest runs $jobs tests at once, each with as many OpenMP threads as cores: more threads than
# cores. libgomp's default lets a thread that waits at a barrier spin for a while before it sleeps,
# and a spinning thread takes the core from the thread it waits for, so a test of many small
# parallel regions slowed from 6 s to 153 s whenever another ran beside it (docs/reliability.md).
# PASSIVE: a waiting thread sleeps at once; the results are the same.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
phase_time ctest
time ctest --test-dir "$build" --output-on-failure -j "$jobs"
