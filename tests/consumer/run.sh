#!/usr/bin/env bash
# Builds and runs tests/consumer against minicnn, as a user would:
#   run.sh find_package      SOURCE_DIR WORK_DIR   install minicnn to a prefix, then find_package
#   run.sh add_subdirectory  SOURCE_DIR WORK_DIR   add_subdirectory() of the source tree
set -euo pipefail
mode=$1 source=$2 work=$3
consumer="$source/tests/consumer"
rm -rf "$work/$mode" && mkdir -p "$work/$mode"
cd "$work/$mode"
case "$mode" in
  find_package)
    cmake -S "$source" -B minicnn-build -DMINICNN_BUILD_TESTS=OFF -DMINICNN_BUILD_EXAMPLES=OFF \
      -DMINICNN_INSTALL=ON >/dev/null
    cmake --install minicnn-build --prefix "$PWD/prefix" >/dev/null
    cmake -S "$consumer" -B consumer-build -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$PWD/prefix" >/dev/null
    ;;
  add_subdirectory)
    cmake -S "$consumer" -B consumer-build -DCMAKE_BUILD_TYPE=Release \
      -DMINICNN_SOURCE_DIR="$source" >/dev/null
    ;;
  *)
    echo "run.sh: expected find_package or add_subdirectory, got '$mode'" >&2
    exit 2
    ;;
esac
cmake --build consumer-build >/dev/null
./consumer-build/consumer
