#!/usr/bin/env bash
# The benchmarks of docs/performance.md, from a fresh machine: installs the Debian packages
# (python3-torch included), builds Release with benchmarks in build-bench, runs the Google
# Benchmark suite at 1 and 2 threads and the side-by-side comparison with PyTorch, and writes
# everything into bench-results/ (or $MINICNN_BENCH_OUT).
# Usage: bash scripts/bench.sh [SECONDS_PER_PHASE] [REPEATS]     (defaults: 5 and 3)
# Run it on a quiet machine: the comparison alternates minicnn and PyTorch runs, which evens
# out slow drifts of the load, not a second job competing for the cores.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/install_deps.sh"
minicnn_install_deps python3 python3-torch python3-torchvision libopenblas0-pthread

seconds=${1:-5}
repeats=${2:-3}
build=${MINICNN_BUILD_DIR:-$root/build-bench}
out=${MINICNN_BENCH_OUT:-$root/bench-results}
mkdir -p "$out"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMINICNN_BUILD_BENCHMARKS=ON \
  -DMINICNN_BUILD_TESTS=OFF -DMINICNN_BUILD_EXAMPLES=OFF
cmake --build "$build" -j "$(nproc)" --target bench_layers minicnn_throughput

for threads in 1 2; do
  OMP_NUM_THREADS=$threads "$build/bench/bench_layers" --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true --benchmark_out_format=json \
    --benchmark_out="$out/bench_layers_${threads}thread.json" | tee "$out/bench_layers_${threads}thread.txt"
done
/usr/bin/python3 "$root/bench/compare_pytorch.py" --driver "$build/bench/minicnn_throughput" \
  --threads 1 2 --seconds "$seconds" --repeats "$repeats" 2> "$out/compare_pytorch_runs.log" |
  tee "$out/compare_pytorch.md"
echo "Results in $out"
