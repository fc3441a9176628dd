#!/usr/bin/env bash
# Test of scripts/check_doc_names.py on made-up documents: real names pass (members found through
# base classes, namespaces, enumerators, free functions, template and call arguments dropped),
# and every misspelt or misplaced name fails with its line and the reason, so that the check
# never says "ok" about a name that does not exist. Prose spans, outside names (C's math, OpenMP,
# zlib, std::, PyTorch) and fenced code are not checked.
#
#   bash scripts/test_check_doc_names.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d /tmp/minicnn-doc-names-XXXXXX)
trap 'rm -rf "$work"' EXIT
check=(python3 "$root/scripts/check_doc_names.py")
fail() { echo "FAIL: $*"; exit 1; }

cat >"$work/real.md" <<'EOF'
# Real names

`Conv2D::forward` lowers with `im2col()` and multiplies with `gemm::multiply`; its backward adds
back with `col2im(g, columns, image)`. `Conv2D::build` is Layer's (a base class), as is
`MaxPool2D::plan_layer` (Pool2D's), `SparseCategoricalCrossentropy::compute` (CrossEntropy's)
and `ReLU::forward` (Elementwise's). `minicnn::Conv2D::forward`, `Sequential<float>::predict`,
`Layer::backward(x, y, dy, dx, mode)`, `Mode::inference`, `Padding::same`, `Parameter::grad`,
`Sequential::Evaluation`, `Optimizer::zero_grad`, `load_mnist(dir, Split::test)`,
`examples::CommandLine::parse` and `Conv2D<T>(Index filters, Size2 kernel_size)` exist too; a
span may break across
lines: `Sequential::input_gradient(x, layer, seed,
dx)`.

Prose is not checked: `y = x W + b`, `Tensor<T>`, `docs/layers.md`, `(N, C, H, W)`,
`std::vector<float>::size`, `torch.flatten(x, 1)`, `max(p, 1e-7) > 0`; nor are outside names:
`sqrt()`, `tanh(x)`, `omp_set_num_threads(1)`, `crc32()`, `torch::nn::Linear`.

```cpp
Conv2D::not_a_member();  // fenced code is not checked
```
EOF
"${check[@]}" "$work/real.md" >"$work/real.log" 2>&1 || fail "real names were refused: $(cat "$work/real.log")"
grep -qx "$work/real.md: 20 code names checked against include/ and examples/" "$work/real.log" ||
  fail "expected 20 names in real.md: $(cat "$work/real.log")"

cat >"$work/made_up.md" <<'EOF'
# Made-up names

`Conv2D::forwrd` `Dense::im2col` `Mode::testing` `im2colx()`
`Conv2DD::forward` `gemm::multiplyy` `Conv2D::mode` `minicnn::Conv2X::forward`
`Dense::make_unique`
EOF
if "${check[@]}" "$work/made_up.md" 2>"$work/made_up.log" >/dev/null; then
  fail "made-up names passed"
fi
made_up="$work/made_up.md"
cat >"$work/expected.log" <<EOF
$made_up:3: \`Conv2D::forwrd\`: Conv2D has no member forwrd
$made_up:3: \`Dense::im2col\`: Dense has no member im2col
$made_up:3: \`Mode::testing\`: Mode has no member testing
$made_up:3: \`im2colx()\`: nothing in include/ or examples/ declares im2colx
$made_up:4: \`Conv2DD::forward\`: Conv2DD is no namespace, class, struct or enum in include/ or examples/
$made_up:4: \`gemm::multiplyy\`: gemm has no member multiplyy
$made_up:4: \`Conv2D::mode\`: Conv2D has no member mode
$made_up:4: \`minicnn::Conv2X::forward\`: minicnn has no member Conv2X
$made_up:5: \`Dense::make_unique\`: Dense has no member make_unique
check_doc_names: 9 name(s) not found
EOF
diff "$work/expected.log" "$work/made_up.log" || fail "unexpected report on made-up names (diff above)"

# A document that is not there is an error, not an empty pass.
if "${check[@]}" "$work/real.md" "$work/absent.md" 2>"$work/absent.log" >/dev/null; then
  fail "a missing document passed"
fi
grep -qx "$work/absent.md: expected a Markdown file, found none" "$work/absent.log" ||
  fail "unexpected message: $(cat "$work/absent.log")"

status=0
"${check[@]}" 2>/dev/null || status=$?
[ "$status" = 2 ] || fail "no arguments: expected exit status 2, got $status"

echo "check_doc_names: OK"
