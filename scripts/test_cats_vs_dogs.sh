#!/usr/bin/env bash
# End-to-end test of the cats_vs_dogs trainer without the lab's photos: writes a tiny folder of
# PNG files in two class folders (cat/: reddish, horizontal stripes; dog/: bluish, vertical
# stripes; mixed sizes, grey and RGBA among them) with one corrupt file, trains one epoch at 32x32
# and checks the outputs, the report's class names and the skipped file. Also checks --help and
# the message for a missing folder. Takes a few seconds.
#
#   bash scripts/test_cats_vs_dogs.sh BUILD_DIR      (BUILD_DIR/examples/cats_vs_dogs)
set -euo pipefail
build=${1:?usage: test_cats_vs_dogs.sh BUILD_DIR}
work=$(mktemp -d /tmp/minicnn-cats-XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 "$(dirname "${BASH_SOURCE[0]}")/make_photo_folder.py" "$work/photos"

# A small zoo model keeps the run short under the sanitizers; the default one is the same code.
"$build/examples/cats_vs_dogs" --data-dir "$work/photos" --size 32 --epochs 1 --batch-size 4 \
  --threads 2 --test-split 0.3 --model cifar10_model1 --out "$work/run" >"$work/train.log"
for file in model.mcnn last.mcnn history.csv history.json report.md report.html loss.png \
  accuracy.png confusion_matrix.png confusion_errors.png; do
  [ -s "$work/run/$file" ] || { echo "FAIL: $work/run/$file is missing"; exit 1; }
done
grep -q "Found 21 files belonging to 2 classes" "$work/train.log" ||
  { echo "FAIL: unexpected listing: $(head -3 "$work/train.log")"; exit 1; }
grep -q "skipped image file '$work/photos/dog/broken.jpg'" "$work/train.log" ||
  { echo "FAIL: the corrupt file is not reported"; exit 1; }
grep -q "test accuracy" "$work/train.log" || { echo "FAIL: no test figures printed"; exit 1; }
# Conv2D 32,3 on 32x32 photos: 30x30 maps.
grep -q "(None, 32, 30, 30)" "$work/run/report.md" ||
  { echo "FAIL: the model does not take 32x32 images"; exit 1; }
for name in cat dog; do
  grep -q "<td>$name</td>" "$work/run/report.html" ||
    { echo "FAIL: report.html does not name the class $name"; exit 1; }
done
grep -q "<h2>Confusion matrix</h2>" "$work/run/report.html" ||
  { echo "FAIL: report.html has no confusion matrix"; exit 1; }

"$build/examples/cats_vs_dogs" --help >"$work/help.log"
grep -q -- "--size" "$work/help.log" && grep -q -- "--test-split" "$work/help.log" ||
  { echo "FAIL: --help does not list --size and --test-split"; exit 1; }

# No folder: the loader's message, exit status 1.
if "$build/examples/cats_vs_dogs" --data-dir "$work/none" 2>"$work/missing.log"; then
  echo "FAIL: cats_vs_dogs without photos succeeded"; exit 1
fi
grep -q "load_image_folder: expected a directory of class folders, got '$work/none', which does not exist" \
  "$work/missing.log" || { echo "FAIL: unexpected message: $(cat "$work/missing.log")"; exit 1; }

echo "cats_vs_dogs trainer: OK"
