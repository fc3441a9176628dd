#!/usr/bin/env bash
# The MNIST trainer under mpirun (docs/distributed.md), on a tiny generated MNIST in the real IDX
# format: `mpirun -np 2 mnist` with the flags of a one-process run must train once (one progress
# line per epoch, from rank 0), write the model, checkpoint, history and reports once, name the 2
# ranks in report.md, and resume from its checkpoint with 3 ranks (--verbose 2: epoch lines
# only). Takes a few seconds.
#
#   bash scripts/test_distributed_trainer.sh BUILD_DIR MPIEXEC     (BUILD_DIR/examples/mnist)
set -euo pipefail
build=${1:?usage: test_distributed_trainer.sh BUILD_DIR MPIEXEC}
mpiexec=${2:?usage: test_distributed_trainer.sh BUILD_DIR MPIEXEC}
work=$(mktemp -d /tmp/minicnn-distributed-trainer-XXXXXX)
trap 'rm -rf "$work"' EXIT

# 60 training and 20 test images: label i mod 10, a bar whose place depends on the label.
python3 - "$work/data/mnist" <<'PY'
import os, struct, sys
directory = sys.argv[1]
os.makedirs(directory)
for prefix, count in (("train", 60), ("t10k", 20)):
    with open(os.path.join(directory, prefix + "-images-idx3-ubyte"), "wb") as images, \
         open(os.path.join(directory, prefix + "-labels-idx1-ubyte"), "wb") as labels:
        images.write(struct.pack(">IIII", 0x00000803, count, 28, 28))
        labels.write(struct.pack(">II", 0x00000801, count))
        for i in range(count):
            label = i % 10
            pixels = bytearray(28 * 28)
            for t in range(4, 24):
                row, col = (t, 4 + 2 * label) if label % 2 == 0 else (4 + 2 * label, t)
                pixels[row * 28 + col] = 255
            images.write(bytes(pixels))
            labels.write(bytes([label]))
PY

fail() { echo "FAIL: $*"; exit 1; }
flags=(--model mnist_model1 --batch-size 16 --threads 1 --data-dir "$work/data" --out "$work/run")

timeout 120 "$mpiexec" --oversubscribe -np 2 "$build/examples/mnist" "${flags[@]}" --epochs 2 \
  | tee "$work/log"
[[ $(grep -c '^Epoch 1/2' "$work/log") == 1 ]] || fail "expected one progress line for epoch 1"
[[ $(grep -c 'Total params' "$work/log") == 1 ]] || fail "expected one model summary"
for file in model.mcnn last.mcnn history.csv report.md report.html; do
  [[ -f $work/run/$file ]] || fail "$file was not written"
done
grep -q 'x 2 MPI ranks' "$work/run/report.md" || fail "report.md does not name the 2 ranks"
grep -q 'mpirun -np 2' "$work/run/report.md" || fail "report.md does not give the mpirun command"

timeout 120 "$mpiexec" --oversubscribe -np 3 "$build/examples/mnist" "${flags[@]}" --epochs 3 \
  --resume "$work/run/last.mcnn" --verbose 2 | tee "$work/resume.log"
grep -q 'Resuming after epoch 2' "$work/resume.log" || fail "the 3-rank job did not resume"
[[ $(grep -c '^Epoch 3/3 - ' "$work/resume.log") == 1 ]] || fail "expected one line for epoch 3"
# --verbose 2 prints whole lines whatever Open MPI gives the ranks as their output: no bar updates.
! grep -q $'\r' "$work/resume.log" || fail "--verbose 2 printed progress-bar updates"
echo PASS
