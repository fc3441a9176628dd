#!/usr/bin/env bash
# End-to-end test of examples/transfer_experiment without the real data sets (which a machine may
# not be able to download): writes tiny MNIST and Fashion-MNIST directories in the real IDX format
# (bars drawn on 28x28 images: one pattern per class, a different drawing for each data set),
# pretrains for 1 epoch, runs the three arms for 2 epochs (fine-tuning: 1 of the head, 1 of every
# layer) and checks every output file, results.md's rows and the reports' sections. A second run
# with the same seed reads the pretrained model instead of training it and must give the same
# accuracies and losses. Also checks --help and the messages for missing data and for too few
# labelled images. Takes about a minute under the sanitizers.
#
#   bash scripts/test_transfer_experiment.sh BUILD_DIR      (BUILD_DIR/examples/transfer_experiment)
set -euo pipefail
build=${1:?usage: test_transfer_experiment.sh BUILD_DIR}
program=$build/examples/transfer_experiment
work=$(mktemp -d /tmp/minicnn-transfer-XXXXXX)
trap 'rm -rf "$work"' EXIT

# write_idx PREFIX COUNT STYLE: PREFIX-images-idx3-ubyte (COUNT images of 28x28 bytes) and
# PREFIX-labels-idx1-ubyte. Image i has label i mod 10; STYLE bars draws a bar whose position and
# direction depend on the label (digits' strokes), blocks a filled rectangle whose size does
# (garments' silhouettes). A little per-image shift keeps the images of a class apart.
write_idx() {
  python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
prefix, count, style = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(prefix + "-images-idx3-ubyte", "wb") as images, \
     open(prefix + "-labels-idx1-ubyte", "wb") as labels:
    images.write(struct.pack(">IIII", 0x00000803, count, 28, 28))
    labels.write(struct.pack(">II", 0x00000801, count))
    for i in range(count):
        label, shift = i % 10, (i // 10) % 3
        pixels = bytearray(28 * 28)
        if style == "bars":
            for t in range(4, 24):
                row, col = (t, 3 + 2 * label + shift) if label % 2 == 0 else (3 + 2 * label + shift, t)
                pixels[row * 28 + col] = 255
        else:
            for row in range(4 + shift, 8 + 2 * label):
                for col in range(6, 22 - label):
                    pixels[row * 28 + col] = 120 + 12 * label
        images.write(bytes(pixels))
        labels.write(bytes([label]))
PY
}

mkdir -p "$work/data/mnist" "$work/data/fashion-mnist"
write_idx "$work/data/mnist/train" 60 bars
write_idx "$work/data/mnist/t10k" 20 bars
write_idx "$work/data/fashion-mnist/train" 60 blocks
write_idx "$work/data/fashion-mnist/t10k" 20 blocks

fail() { echo "FAIL: $*"; exit 1; }

options=(--data-dir "$work/data" --labelled 20 --pretrain-epochs 1 --epochs 2 --head-epochs 1
  --batch-size 10 --threads 2 --out "$work/run")
"$program" "${options[@]}" >"$work/first.log"

for file in pretrained_mnist_resnet8.mcnn backbone.mcnn results.md; do
  [ -s "$work/run/$file" ] || fail "$work/run/$file is missing"
done
for arm in pretrain scratch features fine_tune; do
  for file in model.mcnn history.csv history.json report.md report.html loss.png accuracy.png \
    confusion_matrix.png confusion_errors.png; do
    [ -s "$work/run/$arm/$file" ] || fail "$work/run/$arm/$file is missing"
  done
  for section in Result Model "Training curves" "Confusion matrix" Epochs; do
    grep -q "<h2>$section</h2>" "$work/run/$arm/report.html" ||
      fail "$arm/report.html has no section $section"
  done
done
grep -q "<td>Ankle boot</td>" "$work/run/fine_tune/report.html" ||
  fail "the fine-tuning report does not name Fashion-MNIST's classes"
grep -q "<td>9</td>" "$work/run/pretrain/report.html" ||
  fail "the pretraining report does not name MNIST's classes"
# (b)'s model: the frozen backbone's weights count as non-trainable, the head's 64 * 10 + 10 learn.
grep -q "^Trainable params: 650$" "$work/run/features/report.md" ||
  fail "the feature-extraction model does not train its head alone"
# (c): two epochs, the second at the fine-tuning learning rate.
awk -F, 'NR == 2 && ($1 != 0 || $5 != 0.001) { exit 1 } NR == 3 && ($1 != 1 || $5 != 0.0001) { exit 1 }
  END { exit NR != 3 }' "$work/run/fine_tune/history.csv" ||
  fail "fine_tune/history.csv is not epoch 0 at 0.001, epoch 1 at 0.0001: $(cat "$work/run/fine_tune/history.csv")"

# results.md: a row per run, with a percentage.
rows() { grep -E '^\| (pretrained on MNIST|\(a\) from scratch|\(b\) feature extraction|\(c\) fine-tuning)' "$1"; }
[ "$(rows "$work/run/results.md" | grep -cE '\| [0-9]+\.[0-9]{2} % \|')" = 4 ] ||
  fail "results.md does not have its 4 rows: $(cat "$work/run/results.md")"
grep -q "^Source: MNIST, 60 training images; target: Fashion-MNIST, 20 of its 60 training images" \
  "$work/first.log" || fail "the run does not state its data"

# A second run reads the pretrained model and gives the same figures (seconds apart).
"$program" "${options[@]}" >"$work/second.log"
grep -q "pretraining skipped" "$work/second.log" || fail "the second run pretrained again"
# The arms' figures as printed: "(a) from scratch: test accuracy 45.00 %, loss 1.2345 (20 images)".
figures() { grep -E '^\((a|b|c)\)[^:]*: test accuracy' "$1" | sed 's/; training.*//'; }
[ "$(figures "$work/first.log" | wc -l)" = 3 ] || fail "the first run printed no figures per arm"
[ "$(figures "$work/first.log")" = "$(figures "$work/second.log")" ] ||
  fail "the second run's figures differ: $(figures "$work/first.log") versus $(figures "$work/second.log")"

"$program" --help >"$work/help.log"
for option in data-dir source target labelled epochs head-epochs pretrain-epochs lr fine-tune-lr \
  depth seed threads pretrained out; do
  grep -q "^  --$option " "$work/help.log" || fail "--help does not list --$option"
done

if "$program" --data-dir "$work/none" 2>"$work/missing.log"; then
  fail "transfer_experiment without data succeeded"
fi
grep -q "^transfer_experiment: load_mnist: expected a data directory, got '$work/none', which does not exist; run scripts/fetch_data.sh mnist" \
  "$work/missing.log" || fail "unexpected message: $(cat "$work/missing.log")"

if "$program" "${options[@]}" --labelled 5 2>"$work/labelled.log"; then
  fail "transfer_experiment accepted 5 labelled images for 10 classes"
fi
grep -q "^transfer_experiment: balanced_choice: expected a count in \[10, 60\]" "$work/labelled.log" ||
  fail "unexpected message: $(cat "$work/labelled.log")"

echo "transfer experiment: OK"
