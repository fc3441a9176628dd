#!/usr/bin/python3
"""Writes tests/golden/small_resnet.bin: a whole small ResNet run by PyTorch, for the end-to-end
test of minicnn's graph engine (tests/model/test_model_golden.cpp), in the spirit of llm.c's
test_gpt2: the same model with the same weights on both sides, then the logits, the loss, every
parameter's gradient and the losses of 10 optimizer steps compared.

    /usr/bin/python3 tools/make_model_golden.py      # Debian's python3-torch (PyTorch 1.13, CPU)

The model, on (3, 8, 8) inputs, with minicnn's layer names:

    conv1 (3x3 'same', 4) - bn1 - relu1                                     the stem
    block1_conv1 (3x3, 4, no bias) - block1_bn1 - block1_relu1
      - block1_conv2 (3x3, 4, no bias) - block1_bn2 - block1_add (+ relu1) - block1_relu2
    block2_conv1 (3x3 stride 2, 8, no bias) - block2_bn1 - block2_relu1
      - block2_conv2 (3x3, 8, no bias) - block2_bn2
      - block2_add (+ block2_proj (1x1 stride 2, 8, no bias) - block2_proj_bn) - block2_relu2
    pool (global average) - fc (Dense 5)

trained with sparse categorical cross-entropy from logits and Keras's Adam (learning rate 1e-2),
BatchNorm in training mode. The first block's shortcut is an identity (relu1 fans out to the
block and to its Add); the second's is a projection.

Conventions (PyTorch set to minicnn's, as tools/make_golden.py does for each layer):
- Keras's 'same' padding: for the stride-2 3x3 convolution on 8x8 the one padded row and column
  go at the bottom and right (keras_same_pad), where PyTorch's padding=1 would pad both sides.
- BatchNorm: Keras's momentum 0.99 is PyTorch's 0.01; epsilon 1e-3.
- Dense: minicnn's kernel is (in, out), nn.Linear's weight transposed.
- Adam: Keras's formula (epsilon added to sqrt(v), the bias corrections folded into the
  learning rate), written out below, since PyTorch's differs by about 1e-8 relative per step.

Names in the file: x (4, 3, 8, 8), y (4) the labels, then each parameter by its minicnn path
("conv1/kernel", "bn1/moving_mean", ...) before any step, "logits", "loss", "grad/<path>" of
every trainable parameter, "losses" (10) the loss before each of 10 Adam steps, and the moving
statistics after them ("after/<path>"). Everything is computed in float64 from float32-rounded
inputs and weights, so the float and double runs of minicnn start from the same numbers.
"""

import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import as_float32, generator, keras_same_pad, uniform, write_golden  # noqa: E402

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)

BATCH, CLASSES, STEPS = 4, 5, 10
LEARNING_RATE, BETA_1, BETA_2, EPSILON = 1e-2, 0.9, 0.999, 1e-7
BN_MOMENTUM, BN_EPSILON = 0.99, 1e-3


def glorot(gen, shape, fan_in, fan_out):
    limit = (6.0 / (fan_in + fan_out)) ** 0.5
    return uniform(gen, shape, -limit, limit)


def make_parameters(gen):
    """(path, tensor, trainable) in minicnn's order: the layers' order, each layer's own order."""
    params = []

    def conv(name, filters, channels, size, bias):
        fan_in, fan_out = channels * size * size, filters * size * size
        params.append((name + "/kernel", glorot(gen, (filters, channels, size, size), fan_in,
                                                fan_out), True))
        if bias:
            params.append((name + "/bias", uniform(gen, (filters,), -0.1, 0.1), True))

    def bn(name, channels):
        # Away from the initial (1, 0, 0, 1), so that every term of the formulas matters.
        params.append((name + "/gamma", uniform(gen, (channels,), 0.5, 1.5), True))
        params.append((name + "/beta", uniform(gen, (channels,), -0.5, 0.5), True))
        params.append((name + "/moving_mean", uniform(gen, (channels,), -0.2, 0.2), False))
        params.append((name + "/moving_variance", uniform(gen, (channels,), 0.8, 1.2), False))

    conv("conv1", 4, 3, 3, True)
    bn("bn1", 4)
    conv("block1_conv1", 4, 4, 3, False)
    bn("block1_bn1", 4)
    conv("block1_conv2", 4, 4, 3, False)
    bn("block1_bn2", 4)
    conv("block2_conv1", 8, 4, 3, False)
    bn("block2_bn1", 8)
    conv("block2_conv2", 8, 8, 3, False)
    bn("block2_bn2", 8)
    conv("block2_proj", 8, 4, 1, False)
    bn("block2_proj_bn", 8)
    params.append(("fc/kernel", glorot(gen, (8, CLASSES), 8, CLASSES), True))
    params.append(("fc/bias", uniform(gen, (CLASSES,), -0.1, 0.1), True))
    return params


def forward(x, p):
    """The model in training mode; updates the moving statistics in p in place."""

    def conv(x, name, stride=1, size=3):
        x = keras_same_pad(x, (size, size), (stride, stride))
        return F.conv2d(x, p[name + "/kernel"], p.get(name + "/bias"), stride=stride)

    def bn(x, name):
        # Convention: PyTorch's momentum is 1 - Keras's.
        return F.batch_norm(x, p[name + "/moving_mean"], p[name + "/moving_variance"],
                            p[name + "/gamma"], p[name + "/beta"], training=True,
                            momentum=1.0 - BN_MOMENTUM, eps=BN_EPSILON)

    stem = F.relu(bn(conv(x, "conv1"), "bn1"))
    y = F.relu(bn(conv(stem, "block1_conv1"), "block1_bn1"))
    y = bn(conv(y, "block1_conv2"), "block1_bn2")
    block1 = F.relu(y + stem)
    y = F.relu(bn(conv(block1, "block2_conv1", stride=2), "block2_bn1"))
    y = bn(conv(y, "block2_conv2"), "block2_bn2")
    shortcut = bn(conv(block1, "block2_proj", stride=2, size=1), "block2_proj_bn")
    y = F.relu(y + shortcut)
    pooled = y.mean(dim=(2, 3))
    return pooled @ p["fc/kernel"] + p["fc/bias"]


def main():
    gen = generator(2024)
    x = uniform(gen, (BATCH, 3, 8, 8))
    labels = torch.tensor([0.0, 3.0, 1.0, 4.0])
    params = make_parameters(gen)
    tensors = [("x", x), ("y", labels)]
    tensors += [(path, value) for path, value, _ in params]

    p = {path: value.clone().requires_grad_(trainable) for path, value, trainable in params}
    logits = forward(x, p)
    loss = F.cross_entropy(logits, labels.long())
    loss.backward()
    tensors += [("logits", logits.detach()), ("loss", loss.detach())]
    tensors += [("grad/" + path, p[path].grad) for path, _, trainable in params if trainable]

    # Ten steps of Keras's Adam from the same start, fresh moving statistics included.
    p = {path: value.clone().requires_grad_(trainable) for path, value, trainable in params}
    m = {path: torch.zeros_like(value) for path, value, trainable in params if trainable}
    v = {path: torch.zeros_like(value) for path, value, trainable in params if trainable}
    losses = []
    for t in range(1, STEPS + 1):
        for value in p.values():
            value.grad = None
        loss = F.cross_entropy(forward(x, p), labels.long())
        loss.backward()
        losses.append(loss.item())
        alpha = LEARNING_RATE * (1 - BETA_2**t) ** 0.5 / (1 - BETA_1**t)
        with torch.no_grad():
            for path in m:
                g = p[path].grad
                m[path] = BETA_1 * m[path] + (1 - BETA_1) * g
                v[path] = BETA_2 * v[path] + (1 - BETA_2) * g * g
                p[path] -= alpha * m[path] / (v[path].sqrt() + EPSILON)
    tensors.append(("losses", torch.tensor(losses)))
    tensors += [("after/" + path, p[path].detach()) for path, _, trainable in params
                if not trainable]
    print(write_golden("small_resnet", tensors))


if __name__ == "__main__":
    main()
