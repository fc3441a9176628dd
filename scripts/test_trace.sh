#!/usr/bin/env bash
# End-to-end test of examples/trace without the real MNIST (which a machine may not be able to
# download): writes a tiny MNIST directory in the real IDX format (strokes drawn on 28x28 images,
# labels 0..9), traces one image with fresh weights and then with a model the mnist trainer
# trained on it, and checks that the output has a forward line and a backward line for every
# layer, the loss, the predicted class, the check against the model, and the PNG files. Also
# checks --help and the message for an image index outside the test set. Takes a few seconds.
#
#   bash scripts/test_trace.sh BUILD_DIR      (BUILD_DIR/examples/{trace,mnist})
set -euo pipefail
build=${1:?usage: test_trace.sh BUILD_DIR}
work=$(mktemp -d /tmp/minicnn-trace-XXXXXX)
trap 'rm -rf "$work"' EXIT

# write_idx PREFIX COUNT: PREFIX-images-idx3-ubyte (COUNT images of 28x28 bytes) and
# PREFIX-labels-idx1-ubyte. Image i has label i mod 10 and shows a bright bar whose position and
# direction depend on the label, so the convolutions have edges to respond to.
write_idx() {
  python3 - "$1" "$2" <<'PY'
import struct, sys
prefix, count = sys.argv[1], int(sys.argv[2])
with open(prefix + "-images-idx3-ubyte", "wb") as images, \
     open(prefix + "-labels-idx1-ubyte", "wb") as labels:
    images.write(struct.pack(">IIII", 0x00000803, count, 28, 28))
    labels.write(struct.pack(">II", 0x00000801, count))
    for i in range(count):
        label = i % 10
        pixels = bytearray(28 * 28)
        for t in range(4, 24):
            row, col = (t, 4 + 2 * label) if label % 2 == 0 else (4 + 2 * label, t)
            pixels[row * 28 + col] = 255
            pixels[row * 28 + col + 1] = 128
        images.write(bytes(pixels))
        labels.write(bytes([label]))
PY
}

mkdir -p "$work/data/mnist"
write_idx "$work/data/mnist/train" 40
write_idx "$work/data/mnist/t10k" 12

fail() { echo "FAIL: $*"; exit 1; }

# check_trace LOG OUT LAYER...: the trace in LOG lists each LAYER (its Keras name) once in the
# forward pass and once in the backward pass, and wrote OUT/input.png and each convolution's maps.
check_trace() {
  local log=$1 out=$2
  shift 2
  local forward backward
  forward=$(sed -n '/^Forward, Mode::inference/,/^Predicted class/p' "$log")
  backward=$(sed -n '/^Backward, Mode::inference/,/^Check against the model/p' "$log")
  for layer in "$@"; do
    grep -qE "^ +[0-9]+  $layer \(" <<<"$forward" || fail "$log: no forward line for $layer"
    grep -qE "^ +[0-9]+  $layer \(" <<<"$backward" || fail "$log: no backward line for $layer"
  done
  grep -qE "^ +[0-9]+  softmax \(Softmax\) +\(1, 10\)  min [0-9.e-]+  max [0-9.e-]+  mean 0\.1$" \
    <<<"$forward" || fail "$log: the probabilities' line is not (1, 10) with mean 0.1"
  grep -qE "^     first values: " <<<"$forward" || fail "$log: no first values"
  grep -qE "^Predicted class [0-9] \(p = [0-9.e-]+\), label [0-9] " "$log" ||
    fail "$log: no predicted class"
  grep -qE "^Loss: SparseCategoricalCrossentropy from the logits = [0-9.e-]+ " "$log" ||
    fail "$log: no loss"
  grep -qE "^ +[0-9]+  dense \(Dense\) +[0-9.e-]+ +kernel \(1600, 10\) [0-9.e-]+  bias \(10\) " \
    <<<"$backward" || fail "$log: no gradient norms for dense's parameters"
  grep -qE "^ +0  conv2d \(Conv2D\) +[0-9.e-]+ +kernel \(32, 1, 3, 3\) [0-9.e-]+  bias \(32\) " \
    <<<"$backward" || fail "$log: no dL/dinput or parameter gradients for the first convolution"
  grep -q "^Check against the model: Sequential::predict, largest difference " "$log" ||
    fail "$log: no check against the model"
  for picture in input conv2d conv2d_1; do
    [ "$(head -c 8 "$out/$picture.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
      fail "$out/$picture.png is missing or not a PNG file"
  done
}

layers=(conv2d re_lu max_pooling2d conv2d_1 re_lu_1 max_pooling2d_1 flatten dropout dense)

"$build/examples/trace" --data-dir "$work/data" --index 3 --out "$work/fresh" >"$work/fresh.log"
check_trace "$work/fresh.log" "$work/fresh" "${layers[@]}"
grep -q "^Image 3 of the MNIST test set, label 3, weights fresh (mnist_cnn, seed 42)$" \
  "$work/fresh.log" || fail "the fresh trace does not name its image and weights"

# The same image through a model trained on the generated set: --model reads its checkpoint.
"$build/examples/mnist" --data-dir "$work/data" --epochs 1 --batch-size 8 --threads 2 \
  --out "$work/run" >"$work/train.log"
"$build/examples/trace" --data-dir "$work/data" --index 3 --model "$work/run/model.mcnn" \
  --out "$work/trained" >"$work/trained.log"
check_trace "$work/trained.log" "$work/trained" "${layers[@]}"
grep -q "weights from $work/run/model.mcnn" "$work/trained.log" ||
  fail "the trained trace does not name its checkpoint"

"$build/examples/trace" --help >"$work/help.log"
for option in data-dir index model architecture seed out; do
  grep -q "^  --$option " "$work/help.log" || fail "--help does not list --$option"
done

if "$build/examples/trace" --data-dir "$work/data" --index 12 2>"$work/index.log"; then
  fail "trace accepted an image index outside the test set"
fi
grep -q "^trace: --index expects a test image in \[0, 12), got 12$" "$work/index.log" ||
  fail "unexpected message: $(cat "$work/index.log")"

echo "trace example: OK"
