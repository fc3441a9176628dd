#!/usr/bin/env bash
# End-to-end test of the trainers that start from a pretrained backbone (common/transfer.hpp):
# cats_vs_dogs --backbone in both modes and cifar10_transfer, with a committed PyTorch export as
# the backbone (tests/golden/onnx/small_resnet_preserve.onnx: a small ResNet with BatchNorm,
# global average pool and Gemm, on (3, 8, 8) images) on a generated folder of PNG photos and
# tiny CIFAR-10 files in the real format. Checks the outputs, that report.html renders in headless
# Chromium with its sections, --help, and the refusals: a missing file, a file that is not ONNX,
# a backbone that does not take 3-channel images, images too small for one (windows_eval.onnx),
# and no --backbone.
#
#   bash scripts/test_transfer_trainers.sh BUILD_DIR
#        (BUILD_DIR/examples/cats_vs_dogs and cifar10_transfer, built with minicnn::onnx)
set -euo pipefail
build=${1:?usage: test_transfer_trainers.sh BUILD_DIR}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
backbone=$root/tests/golden/onnx/small_resnet_preserve.onnx
cats=$build/examples/cats_vs_dogs
cifar=$build/examples/cifar10_transfer
work=$(mktemp -d /tmp/minicnn-transfer-XXXXXX)
trap 'rm -rf "$work"' EXIT

source "$root/scripts/test_helpers.sh"  # expect, status
# The run's files, and report.html as headless Chromium renders it (its DOM after loading).
check_run() {
  for file in model.mcnn history.csv history.json report.md report.html loss.png accuracy.png \
    confusion_matrix.png confusion_errors.png; do
    [ -s "$1/$file" ] || { echo "FAIL: $1/$file is missing"; exit 1; }
  done
  command -v chromium >/dev/null ||
    { echo "FAIL: needs headless Chromium (bash scripts/install_deps.sh chromium)"; exit 1; }
  local dom
  dom=$(timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" --dump-dom "file://$1/report.html" 2>/dev/null)
  for section in Run Result Model "Training curves" "Confusion matrix" "Per-class figures" \
    Epochs Timings; do
    expect "$2: report.html renders '$section'" "<h2>$section</h2>" "$dom"
  done
}

# Two classes of photos (cat/: reddish, horizontal stripes; dog/: bluish, vertical stripes),
# mixed sizes and colour modes, one corrupt file.
python3 "$root/scripts/make_photo_folder.py" "$work/photos"

common=(--data-dir "$work/photos" --backbone "$backbone" --threads 2 --test-split 0.3
        --batch-size 4)

# Features: the photos resized to the backbone's 8x8, its 8 pooled features, a classifier.
out=$(status 0 "$cats" "${common[@]}" --mode features --epochs 3 --out "$work/features")
expect "features: listing" "Found 21 files belonging to 2 classes" "$out"
expect "features: computed once" " images -> (8) each, cut at '" "$out"
expect "features: test figures" "test accuracy" "$out"
check_run "$work/features" "features"
report=$(cat "$work/features/report.md")
expect "features: the report's model is the whole pipeline" "head_logits (Dense)" "$report"
expect "features: on 8x8 photos" "(None, 3, 8, 8)" "$report"

# Flatten instead: the last feature map (8, 4, 4) is 128 numbers; 16x16 photos give 512.
out=$(status 0 "$cats" "${common[@]}" --mode features --features flatten --size 16 --epochs 1 \
  --preprocess caffe --out "$work/flatten")
expect "flatten: the map's every value" " images -> (512) each" "$out"
[ -s "$work/flatten/report.html" ] || { echo "FAIL: flatten wrote no report.html"; exit 1; }

# Fine-tuning from the second block on, with a tenth of Adam's learning rate.
out=$(status 0 "$cats" "${common[@]}" --mode finetune --unfreeze-from block2_conv1_Conv \
  --epochs 1 --size 12 --augment flip_shift --out "$work/finetune")
grep -qE "learning_rate=(0.0001|1e-04)," "$work/finetune/report.md" ||
  { echo "FAIL: finetune's Adam does not have a tenth of Keras's learning rate"; exit 1; }
check_run "$work/finetune" "finetune"

# The refusals, each naming the file and what was expected, exit status 1.
out=$(status 1 "$cats" --data-dir "$work/photos" --backbone "$work/none.onnx")
expect "missing backbone" "cats_vs_dogs: --backbone: expected an ONNX file, got '$work/none.onnx', which does not exist" "$out"
out=$(status 1 "$cats" --data-dir "$work/photos" --backbone "$work/photos/cat/cat.0.png")
expect "not ONNX" "cats_vs_dogs: ONNX file '$work/photos/cat/cat.0.png': " "$out"
out=$(status 1 "$cats" --data-dir "$work/photos" --backbone "$root/tests/golden/onnx/dense_eval.onnx")
expect "not 3-channel images" "expected a model of 3-channel images (3, H, W), got one of samples of shape (" "$out"
# windows_eval.onnx ends in a 2x2 average pool, which a 4x4 photo shrinks below.
out=$(status 1 "$cats" "${common[@]}" --backbone "$root/tests/golden/onnx/windows_eval.onnx" \
  --size 4 --out "$work/small")
expect "images too small" "cannot take images of shape (3, 4, 4): " "$out"
out=$(status 1 "$cats" "${common[@]}" --mode retrain --out "$work/mode")
expect "unknown mode" "--mode: expected features or finetune, got 'retrain'" "$out"

out=$(status 0 "$cats" --help)
expect "cats_vs_dogs --help" "--backbone" "$out"
expect "cats_vs_dogs --help" "--unfreeze-from" "$out"

# CIFAR-10: 5 x 8 training records and 10 test records, label i mod 10, random pixels.
mkdir -p "$work/data/cifar-10-batches-bin"
python3 - "$work/data/cifar-10-batches-bin" <<'PY'
import os, random, sys
rng = random.Random(5)
for name, count in [("data_batch_%d.bin" % b, 8) for b in range(1, 6)] + [("test_batch.bin", 10)]:
    with open(os.path.join(sys.argv[1], name), "wb") as f:
        for i in range(count):
            f.write(bytes([i % 10]) + bytes(rng.randrange(256) for _ in range(3072)))
PY
out=$(status 0 "$cifar" --data-dir "$work/data" --backbone "$backbone" --epochs 1 --threads 2 \
  --batch-size 8 --augment flip_shift --size 40 --out "$work/cifar")
expect "cifar10_transfer: upsized" "(None, 3, 40, 40)" "$(cat "$work/cifar/report.md")"
expect "cifar10_transfer: 10 classes" "(None, 10)" "$(cat "$work/cifar/report.md")"
expect "cifar10_transfer: test figures" "test accuracy" "$out"
check_run "$work/cifar" "cifar10_transfer"
out=$(status 1 "$cifar" --data-dir "$work/data")
expect "cifar10_transfer without --backbone" "expected --backbone FILE.onnx" "$out"
out=$(status 0 "$cifar" --help)
expect "cifar10_transfer --help" "--augment" "$out"

echo "transfer trainers: OK"
