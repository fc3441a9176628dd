#!/usr/bin/env bash
# End-to-end test of the CIFAR trainers without the real data sets (which this machine may not be
# able to download): writes tiny CIFAR-10 and CIFAR-100 directories in the real binary format
# (records of label bytes + 3072 pixel bytes), trains one epoch on each and checks the outputs.
# report.html must be self-contained (checked with grep) and name its sections. Also checks that a
# missing data set fails with the loader's message. Takes a few seconds.
#
#   bash scripts/test_cifar_trainers.sh BUILD_DIR      (BUILD_DIR/examples/{cifar10,cifar100})
set -euo pipefail
build=${1:?usage: test_cifar_trainers.sh BUILD_DIR}
work=$(mktemp -d /tmp/minicnn-cifar-XXXXXX)
trap 'rm -rf "$work"' EXIT

# write_records FILE COUNT LABEL_BYTES: COUNT records; label byte b of record i is i mod the
# label's class count (10 for CIFAR-10; 20 coarse and 100 fine for CIFAR-100), pixels pseudo-random.
write_records() {
  python3 - "$1" "$2" "$3" <<'PY'
import random, sys
path, count, label_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
classes = [10] if label_bytes == 1 else [20, 100]
rng = random.Random(count * 7 + label_bytes)
with open(path, "wb") as f:
    for i in range(count):
        f.write(bytes(i % c for c in classes))
        f.write(bytes(rng.randrange(256) for _ in range(3072)))
PY
}

mkdir -p "$work/data/cifar-10-batches-bin" "$work/data/cifar-100-binary"
for batch in 1 2 3 4 5; do
  write_records "$work/data/cifar-10-batches-bin/data_batch_$batch.bin" 8 1
done
write_records "$work/data/cifar-10-batches-bin/test_batch.bin" 10 1
write_records "$work/data/cifar-100-binary/train.bin" 40 2
write_records "$work/data/cifar-100-binary/test.bin" 10 2

check_outputs() {
  for file in model.mcnn last.mcnn history.csv history.json report.md report.html loss.png \
    accuracy.png confusion_matrix.png confusion_errors.png; do
    [ -s "$1/$file" ] || { echo "FAIL: $1/$file is missing"; exit 1; }
  done
  check_report_html "$1/report.html"
}

# report.html is self-contained: no URL (base64 has no ':', so none hides in the pictures), no
# script, link or href, and every <img src> is an inline PNG (the two heat maps at least); the
# two training curves are inline SVG drawings; and it has its sections.
check_report_html() {
  if grep -qiE 'https?:|<script|<link|href=|url\(|@import' "$1"; then
    echo "FAIL: $1 refers to something outside itself"; exit 1
  fi
  local sources
  sources=$(grep -o 'src="[^"]\{0,22\}' "$1" || true)
  [ "$(grep -c . <<<"$sources")" -ge 2 ] || { echo "FAIL: $1 has fewer than 2 pictures"; exit 1; }
  [ "$(grep -c '<svg ' "$1")" -eq 2 ] && [ "$(grep -c '</svg>' "$1")" -eq 2 ] ||
    { echo "FAIL: $1 does not draw its 2 training curves as SVG"; exit 1; }
  if grep -v '^src="data:image/png;base64,$' <<<"$sources"; then
    echo "FAIL: $1 has an image that is not an inline PNG"; exit 1
  fi
  for section in Run Result Model "Training curves" "Confusion matrix" "Per-class figures" \
    "Worst-classified test images" Epochs Timings; do
    grep -q "<h2>$section</h2>" "$1" || { echo "FAIL: $1 has no section '$section'"; exit 1; }
  done
}

common=(--data-dir "$work/data" --epochs 1 --threads 2 --batch-size 8)
"$build/examples/cifar10" "${common[@]}" --model cifar10_model1 --augment flip_shift_rotate_zoom \
  --out "$work/runs/cifar10" >"$work/cifar10.log"
check_outputs "$work/runs/cifar10"
[ -s "$work/runs/cifar10/augmentation.png" ] || { echo "FAIL: no augmentation.png"; exit 1; }
grep -q "random_augmentation (RandomAugmentation)" "$work/runs/cifar10/report.md" ||
  { echo "FAIL: the augmented model has no RandomAugmentation layer"; exit 1; }
grep -q "test accuracy" "$work/cifar10.log" || { echo "FAIL: cifar10 printed no test figures"; exit 1; }
# Behind the augmentation layer the first trainable layer is a Conv2D: its filters are shown.
[ -s "$work/runs/cifar10/filters.png" ] || { echo "FAIL: cifar10_model1 wrote no filters.png"; exit 1; }
grep -q "<h2>First-layer filters</h2>" "$work/runs/cifar10/report.html" ||
  { echo "FAIL: cifar10_model1's report.html shows no filters"; exit 1; }
grep -q "<td>automobile</td>" "$work/runs/cifar10/report.html" ||
  { echo "FAIL: report.html does not name the CIFAR-10 classes"; exit 1; }
grep -q "^Wrote .*report.html,loss.png" "$work/cifar10.log" ||
  { echo "FAIL: the Wrote line does not list the report files"; exit 1; }

"$build/examples/cifar100" "${common[@]}" --labels coarse --out "$work/runs/coarse" >"$work/coarse.log"
check_outputs "$work/runs/coarse"
grep -q "(None, 20)" "$work/runs/coarse/report.md" || { echo "FAIL: coarse labels need 20 outputs"; exit 1; }

"$build/examples/cifar100" "${common[@]}" --labels fine --model cifar100_fine_mlp \
  --out "$work/runs/fine" >"$work/fine.log"
check_outputs "$work/runs/fine"
grep -q "(None, 100)" "$work/runs/fine/report.md" || { echo "FAIL: fine labels need 100 outputs"; exit 1; }
grep -q "RMSprop" "$work/runs/fine/report.md" || { echo "FAIL: the MLP's recipe is RMSprop"; exit 1; }
# The MLP starts with a Dense layer: no filters.
[ ! -e "$work/runs/fine/filters.png" ] || { echo "FAIL: the MLP has no filters to show"; exit 1; }

# No data: the loader's message, exit status 1.
if "$build/examples/cifar10" --data-dir "$work/none" 2>"$work/missing.log"; then
  echo "FAIL: cifar10 without data succeeded"; exit 1
fi
grep -q "load_cifar10: expected a data directory, got '$work/none', which does not exist" \
  "$work/missing.log" || { echo "FAIL: unexpected message: $(cat "$work/missing.log")"; exit 1; }

echo "CIFAR trainers: OK"
