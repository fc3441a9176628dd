#!/usr/bin/env bash
# The main job, from a fresh machine: installs missing Debian packages, fetches MNIST, builds the
# example trainer in Release, trains the default model and writes its report.
#
#   bash scripts/train_mnist.sh [trainer options...]     e.g. --model mnist_model2 --epochs 3
#
# Data: $MINICNN_DATA (default ./data). Output: runs/mnist/ (model, checkpoint, history,
# report.md), or --out DIR. `build-release/examples/mnist --help` lists the trainer's options.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/install_deps.sh
minicnn_install_deps curl ca-certificates

export MINICNN_DATA=${MINICNN_DATA:-$root/data}
bash scripts/fetch_data.sh mnist

build=${MINICNN_BUILD_DIR:-$root/build-release}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMINICNN_BUILD_TESTS=OFF \
  -DMINICNN_BUILD_EXAMPLES=ON
cmake --build "$build" --target mnist -j "$(nproc)"

"$build/examples/mnist" --data-dir "$MINICNN_DATA" --out "$root/runs/mnist" "$@"
