#!/usr/bin/env bash
# Runs one compile or link command and appends its CPU time to the log $MINICNN_BUILD_TIMES, one
# line per command: "user_seconds system_seconds wall_seconds peak_kB output_file". CPU seconds,
# not wall time, so that the figures hold on a machine that other jobs share. Used by CMake as
# compiler and linker launcher (scripts/test.sh with MINICNN_BUILD_TIMES set; by hand:
#   cmake -B build -DCMAKE_CXX_COMPILER_LAUNCHER=$PWD/scripts/time_command.sh
#                  -DCMAKE_CXX_LINKER_LAUNCHER=$PWD/scripts/time_command.sh
#   MINICNN_BUILD_TIMES=$PWD/build/times.log cmake --build build
# then python3 scripts/build_times.py build/times.log). Without MINICNN_BUILD_TIMES it only runs
# the command.
set -euo pipefail
if [[ -z ${MINICNN_BUILD_TIMES:-} ]]; then
  exec "$@"
fi
output=?
previous=
for arg in "$@"; do
  [[ $previous == -o ]] && output=$arg
  previous=$arg
done
exec /usr/bin/time -a -o "$MINICNN_BUILD_TIMES" -f "%U %S %e %M $output" "$@"
