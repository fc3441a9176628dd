#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with Debian's clang under AddressSanitizer and
# UndefinedBehaviorSanitizer, then runs each for SECONDS on a corpus grown from generated seeds
# (scripts/make_fuzz_seeds.py), and prints per target the executions run and the findings.
# Exits non-zero when any target finds something: a crash, a sanitizer report, an exception other
# than minicnn::Error, a broken invariant, a timeout (> 10 s on one input), or more than 2 GB.
#
# Usage: bash scripts/fuzz.sh [SECONDS] [TARGET...]     (default 30 s, every target)
#   $MINICNN_FUZZ_DIR   build and corpus directory (default build-fuzz)
#   $MINICNN_FUZZ_JOBS  targets run at the same time, one core each (default 1)
#   $MINICNN_FUZZ_RUNS  stop a target after this many executions if SECONDS have not passed
#   $CXX_FUZZ           the compiler (default clang++)
# Findings are kept as $MINICNN_FUZZ_DIR/findings/TARGET/{crash,leak,timeout,oom}-*; reproduce
# one with: $MINICNN_FUZZ_DIR/bin/TARGET FILE
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/install_deps.sh"
# Debian 12's clang is clang 14; its sanitizer and libFuzzer runtimes are only recommended by it.
minicnn_install_deps clang libclang-rt-14-dev python3
seconds=${1:-30}
shift || true
targets=("$@")
# fuzz_onnx and fuzz_onnx_export need the minicnn::onnx component's libraries (Debian's
# libonnx-dev, libprotobuf-dev).
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(fuzz_idx fuzz_cifar10 fuzz_cifar100 fuzz_checkpoint fuzz_image)
  [[ -f /usr/include/onnx/onnx_pb.h ]] && targets+=(fuzz_onnx fuzz_onnx_export)
fi
dir=${MINICNN_FUZZ_DIR:-$root/build-fuzz}
jobs=${MINICNN_FUZZ_JOBS:-1}
cxx=${CXX_FUZZ:-clang++}
mkdir -p "$dir/bin" "$dir/logs"

# -O1 -g: fast enough to run millions of inputs, and reports with line numbers.
flags=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fopenmp=libgomp
       -fno-omit-frame-pointer -Wall -Wextra -Wpedantic
       -I"$root/include" -I"$root/fuzz" -isystem /usr/include/eigen3)
# stb_image, which fuzz_image drives, copies zero bytes from a null pointer when a PNG's first IDAT
# chunk is empty (memcpy(NULL, src, 0) in stbi__getn: undefined by the letter, harmless); that one
# check is off for it, AddressSanitizer still catches any real access through a null pointer.
declare -A extra_flags=([fuzz_image]=-fno-sanitize=nonnull-attribute)
build() {
  local target=$1 libs=(-lz)
  [[ $target == fuzz_onnx* ]] && libs+=(-DONNX_NAMESPACE=onnx -DONNX_ML=1 -lonnx -lonnx_proto -lprotobuf)
  "$cxx" "${flags[@]}" ${extra_flags[$target]:-} "$root/fuzz/$target.cpp" -o "$dir/bin/$target" "${libs[@]}"
}
# The targets that are missing or older than their sources, built $jobs at a time (each is one
# compiler process).
build_failed=0 builds=()
for target in "${targets[@]}"; do
  if [[ ! -x "$dir/bin/$target" || "$root/fuzz/$target.cpp" -nt "$dir/bin/$target" ]] ||
     [[ -n $(find "$root/include" "$root/fuzz" "$root/examples/onnx" -name '*.hpp' -newer "$dir/bin/$target") ]]; then
    while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do sleep 0.5; done
    echo "building $target"
    build "$target" &
    builds+=($!)
  fi
done
for pid in "${builds[@]}"; do
  wait "$pid" || build_failed=1
done
if [[ $build_failed != 0 ]]; then
  echo "fuzz.sh: a fuzz target failed to build (the compiler's messages are above)" >&2
  exit 1
fi

python3 "$root/scripts/make_fuzz_seeds.py" "$dir/seeds"

# Inputs up to 8 KiB: enough for two CIFAR records (2 x 3074 bytes) and any header; 16 KiB for
# ONNX, whose seeds (the small models of tests/golden/onnx/) reach 11 KiB.
run() {
  local target=$1 seeds=${1#fuzz_} max_len=8192
  # fuzz_onnx_export starts from the importer's seeds.
  [[ $target == fuzz_onnx* ]] && seeds=onnx max_len=16384
  local corpus="$dir/corpus/$target" findings="$dir/findings/$target"
  mkdir -p "$corpus" "$findings"
  "$dir/bin/$target" "$corpus" "$dir/seeds/$seeds" -max_total_time="$seconds" -max_len=$max_len \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$findings/" \
    ${MINICNN_FUZZ_RUNS:+-runs=$MINICNN_FUZZ_RUNS} \
    >"$dir/logs/$target.log" 2>&1
}

# At most $jobs targets at once: the next one starts as soon as any finishes.
declare -A status=() target_of=()
for target in "${targets[@]}"; do
  if [[ ${#target_of[@]} -ge $jobs ]]; then
    wait -n -p done_pid && code=0 || code=$?
    status[${target_of[$done_pid]}]=$code
    unset "target_of[$done_pid]"
  fi
  echo "fuzzing $target for $seconds s (log: $dir/logs/$target.log)"
  run "$target" &
  target_of[$!]=$target
done
while [[ ${#target_of[@]} -gt 0 ]]; do
  wait -n -p done_pid && code=0 || code=$?
  status[${target_of[$done_pid]}]=$code
  unset "target_of[$done_pid]"
done

failed=0
printf '%-18s %14s %10s %s\n' target executions exec/s findings
for target in "${targets[@]}"; do
  log="$dir/logs/$target.log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  found=$(find "$dir/findings/$target" -type f | wc -l)
  printf '%-18s %14s %10s %s\n' "$target" "${execs:-?}" "${speed:-?}" "$found"
  if [[ ${status[$target]} -ne 0 || $found -ne 0 ]]; then
    failed=1
    echo "  FINDING in $target (exit ${status[$target]}):"
    grep -m 5 -E 'ERROR|runtime error|invariant|uncaught|deadly signal' "$log" | sed 's/^/    /' || true
    find "$dir/findings/$target" -type f | sed 's/^/    input: /'
  fi
done
exit $failed
