#!/usr/bin/env bash
# End-to-end test of minicnn-onnx (examples/onnx): imports a committed PyTorch export
# (tests/golden/onnx/small_resnet_eval.onnx) to a checkpoint, exports the checkpoint back to ONNX,
# inspects all three files, and checks --help and the messages and exit statuses of a missing file,
# a file that is not ONNX, an unknown command and a wrong argument count. Takes a few seconds.
#
#   bash scripts/test_onnx_converter.sh BUILD_DIR      (BUILD_DIR/examples/minicnn-onnx)
set -euo pipefail
build=${1:?usage: test_onnx_converter.sh BUILD_DIR}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tool=$build/examples/minicnn-onnx
source_model=$root/tests/golden/onnx/small_resnet_eval.onnx
work=$(mktemp -d /tmp/minicnn-onnx-converter-XXXXXX)
trap 'rm -rf "$work"' EXIT

source "$root/scripts/test_helpers.sh"  # expect, status

out=$(status 0 "$tool" --help)
expect "--help lists the commands" "import MODEL.onnx OUT.mcnn" "$out"
expect "--help lists export" "export IN.mcnn OUT.onnx" "$out"

out=$(status 0 "$tool" import "$source_model" "$work/model.mcnn")
expect "import writes the checkpoint" "wrote '$work/model.mcnn'" "$out"
test -s "$work/model.mcnn"

out=$(status 0 "$tool" export "$work/model.mcnn" "$work/model.onnx")
expect "export writes the ONNX file" "wrote '$work/model.onnx'" "$out"

out=$(status 0 "$tool" inspect "$source_model")
expect "inspect .onnx: the producer" "producer 'pytorch'" "$out"
expect "inspect .onnx: the input" "input  " "$out"
expect "inspect .onnx: Conv nodes" " Conv " "$out"
expect "inspect .onnx: the parameters" "parameters " "$out"

out=$(status 0 "$tool" inspect "$work/model.mcnn")
expect "inspect .mcnn: the layers" " Conv2D " "$out"
expect "inspect .mcnn: the summary" "Total params" "$out"
mcnn_parameters=$(grep '^parameters ' <<<"$out" | cut -d' ' -f2)

out=$(status 0 "$tool" inspect "$work/model.onnx")
expect "inspect the export: minicnn wrote it" "producer 'minicnn'" "$out"
expect "inspect the export: opset 13" "opset ai.onnx 13" "$out"
expect "inspect the export: a symbolic batch" "(N, " "$out"
expect "inspect the export: the checkpoint's parameter count" "parameters $mcnn_parameters " "$out"

out=$(status 1 "$tool" import "$work/missing.onnx" "$work/x.mcnn")
expect "a missing file is named" "'$work/missing.onnx': cannot open it for reading" "$out"
test ! -e "$work/x.mcnn"
printf 'not onnx' >"$work/bad.onnx"
out=$(status 1 "$tool" inspect "$work/bad.onnx")
expect "a file that is not ONNX is refused" "not a valid ONNX model" "$out"
out=$(status 1 "$tool" export "$work/bad.onnx" "$work/y.onnx")
expect "export refuses what is not a checkpoint" "bad.onnx" "$out"
test ! -e "$work/y.onnx"
out=$(status 2 "$tool" convert a b)
expect "an unknown command" "unknown command 'convert'" "$out"
out=$(status 2 "$tool" import only-one)
expect "a wrong argument count" "import takes 2 arguments, got 1" "$out"
out=$(status 2 "$tool" inspect model.txt)
expect "inspect wants .onnx or .mcnn" "expected a file ending in .onnx or .mcnn" "$out"
echo "minicnn-onnx: all checks passed"
