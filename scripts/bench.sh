#!/usr/bin/env bash
# The benchmarks of docs/performance.md, from a fresh machine: installs the Debian packages
# (python3-torch, dlib, ONNX, Node.js included), builds Release with benchmarks in build-bench, and
# writes everything into bench-results/ (or $MINICNN_BENCH_OUT).
#
#   bash scripts/bench.sh [SECONDS_PER_PHASE] [REPEATS]     (defaults: 5 and 3)
#       the Google Benchmark suite at 1 and 2 threads, the side-by-side comparison with PyTorch
#       (bench/compare_pytorch.py), then minicnn beside ONNX Runtime, PyTorch and dlib
#       (bench/compare_engines.py) on all its models;
#   bash scripts/bench.sh engines [compare_engines.py flags]
#       only the latter, e.g. a quick look:
#       bash scripts/bench.sh engines --models lenet5 resnet18 --threads 1 --repeats 1 --seconds 2
#
# Run it on a quiet machine: the comparisons alternate the engines' runs, which evens out slow
# drifts of the load, not a second job competing for the cores.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/install_deps.sh"
# A machine may bring a Node.js of its own, which includes npm and conflicts with Debian's npm
# package (as scripts/test.sh).
node_packages=()
command -v npm >/dev/null || node_packages=(nodejs npm)
minicnn_install_deps python3 python3-torch python3-torchvision libopenblas0-pthread libdlib-dev \
  libonnx-dev libprotobuf-dev "${node_packages[@]}"

build=${MINICNN_BUILD_DIR:-$root/build-bench}
out=${MINICNN_BENCH_OUT:-$root/bench-results}
mkdir -p "$out"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMINICNN_BUILD_BENCHMARKS=ON \
  -DMINICNN_BUILD_TESTS=OFF -DMINICNN_BUILD_EXAMPLES=OFF -DMINICNN_WITH_ONNX=ON
engine_targets=(minicnn_throughput fma_peak minicnn_bench_onnxruntime dlib_throughput)

compare_engines() {
  /usr/bin/python3 "$root/bench/compare_engines.py" --build "$build" "$@" \
    2> "$out/compare_engines_runs.log" | tee "$out/compare_engines.md"
}

if [ "${1:-}" = engines ]; then
  shift
  cmake --build "$build" -j "$(nproc)" --target "${engine_targets[@]}"
  compare_engines "$@"
  echo "Results in $out"
  exit 0
fi

seconds=${1:-5}
repeats=${2:-3}
cmake --build "$build" -j "$(nproc)" --target bench_layers "${engine_targets[@]}"

for threads in 1 2; do
  OMP_NUM_THREADS=$threads "$build/bench/bench_layers" --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true --benchmark_out_format=json \
    --benchmark_out="$out/bench_layers_${threads}thread.json" | tee "$out/bench_layers_${threads}thread.txt"
done
/usr/bin/python3 "$root/bench/compare_pytorch.py" --driver "$build/bench/minicnn_throughput" \
  --threads 1 2 --seconds "$seconds" --repeats "$repeats" 2> "$out/compare_pytorch_runs.log" |
  tee "$out/compare_pytorch.md"
compare_engines --threads 1 2 --seconds "$seconds" --repeats "$repeats"
echo "Results in $out"
