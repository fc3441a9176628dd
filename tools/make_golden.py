#!/usr/bin/python3
"""Writes the golden reference files of minicnn's tests (tests/golden/*.bin) with PyTorch.

Every layer, loss and optimizer of minicnn is run by PyTorch in float64 on small inputs; the
C++ test (tests/layers/test_golden.cpp) runs ours in float on the same inputs and compares. Inputs and
parameters are drawn, then rounded to float32 (and stored as float64), so that both sides start
from exactly the same numbers and only the arithmetic differs.

    /usr/bin/python3 tools/make_golden.py        # Debian's python3-torch (PyTorch 1.13, CPU)

Running it again writes byte-identical files: every case has its own fixed seed, PyTorch runs on
one thread, and the writer is deterministic (check: sha256sum tests/golden/*.bin, twice).

File format (little-endian throughout; read by tests/support/golden.hpp):

    magic     8 bytes   b"MCGOLD01"
    count     uint32    number of tensors
    count times:
      name_length uint32, name (name_length bytes of UTF-8, unique within the file)
      rank        uint32 (0 to 4; rank 0 is a scalar)
      dims        rank x int64
      data        prod(dims) x float64, row-major
    nothing after the last tensor

Layouts are minicnn's (row-major NCHW, as PyTorch). Names in a layer file:
    x, r           the input and the random r; the output gradient is r (the gradient of
                   sum(y * r))
    y, dx          the forward output and dL/dx
    <param>        a parameter's value, in minicnn's layout ("kernel", "bias", "gamma", ...)
    grad/<param>   dL/d<param>

Where Keras (minicnn's reference for semantics) and PyTorch conventions differ, PyTorch is set to
ours; each place says so in a comment marked "Convention:".
"""

import hashlib
import os
import struct
import sys

import torch
import torch.nn.functional as F

MAGIC = b"MCGOLD01"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden")

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)


# ----------------------------------------------------------------------------------------------
# Writing


def write_golden(name, tensors):
    """Writes tensors (a list of (name, tensor) pairs, in this order) to OUT_DIR/<name>.bin."""
    out = bytearray(MAGIC)
    out += struct.pack("<I", len(tensors))
    seen = set()
    for key, value in tensors:
        assert key not in seen, f"{name}: duplicate tensor name {key}"
        seen.add(key)
        # (np.ascontiguousarray would turn a scalar into rank 1; astype copies, row-major.)
        array = torch.as_tensor(value).detach().to(torch.float64).numpy().astype("<f8", order="C")
        assert array.ndim <= 4, f"{name}/{key}: rank {array.ndim} > 4"
        encoded = key.encode("utf-8")
        out += struct.pack("<I", len(encoded)) + encoded
        out += struct.pack("<I", array.ndim)
        out += struct.pack(f"<{array.ndim}q", *array.shape)
        out += array.tobytes()
    path = os.path.join(OUT_DIR, name + ".bin")
    with open(path, "wb") as f:
        f.write(bytes(out))
    return path


# ----------------------------------------------------------------------------------------------
# Helpers


def generator(seed):
    return torch.Generator().manual_seed(seed)


def as_float32(t):
    """The float32 value of t, kept in float64: a number both sides hold exactly."""
    return t.to(torch.float32).to(torch.float64)


def uniform(gen, shape, low=-1.0, high=1.0):
    return as_float32(torch.rand(shape, generator=gen) * (high - low) + low)


def away_from_zero(gen, shape, low=0.5, high=1.5):
    """Values with |v| in [low, high) and a random sign."""
    sign = torch.where(torch.rand(shape, generator=gen) < 0.5, -1.0, 1.0)
    return sign * uniform(gen, shape, low, high)


def layer_case(name, gen, x, forward, params=()):
    """Runs forward(x, *params) in float64, then the backward of sum(y * r).

    params: (minicnn name, tensor in minicnn's layout) pairs; forward receives the tensors.
    """
    x = x.clone().requires_grad_(True)
    leaves = [(key, value.clone().requires_grad_(True)) for key, value in params]
    y = forward(x, *[value for _, value in leaves])
    r = uniform(gen, tuple(y.shape))
    (y * r).sum().backward()
    tensors = [("x", x), ("r", r), ("y", y), ("dx", x.grad)]
    tensors += [(key, value) for key, value in leaves]
    tensors += [("grad/" + key, value.grad) for key, value in leaves]
    return write_golden(name, tensors)


def keras_same_pad(x, kernel, strides, value=0.0):
    """Convention: Keras/TensorFlow 'same' padding, which PyTorch lacks for stride > 1 (and pads
    symmetrically otherwise): output = ceil(in / s), total = max((out - 1) s + k - in, 0), half
    before and the rest (one more when odd) after, done with an explicit asymmetric F.pad."""
    pads = []
    for size, k, s in ((x.shape[3], kernel[1], strides[1]), (x.shape[2], kernel[0], strides[0])):
        out = -(-size // s)
        total = max((out - 1) * s + k - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads, value=value)  # (left, right, top, bottom)


# ----------------------------------------------------------------------------------------------
# Layers


def dense_cases():
    for name, seed, batch, inputs, units, use_bias in (
        ("dense_bias", 101, 3, 5, 4, True),
        ("dense_nobias", 102, 2, 7, 3, False),
    ):
        gen = generator(seed)
        x = uniform(gen, (batch, inputs))
        # Convention: our Dense kernel is (in, units), Keras's layout: nn.Linear's weight
        # (units, in) transposed, y = x W + b = F.linear(x, W^T, b).
        params = [("kernel", uniform(gen, (inputs, units)))]
        if use_bias:
            params.append(("bias", uniform(gen, (units,))))

        def forward(x, kernel, bias=None):
            return F.linear(x, kernel.t(), bias)

        layer_case(name, gen, x, forward, params)


def conv2d_cases():
    # name, seed, (N, C, H, W), filters, kernel, strides, padding, use_bias
    for name, seed, shape, filters, kernel, strides, padding, use_bias in (
        ("conv2d_valid_s1_k3", 201, (2, 2, 5, 6), 3, (3, 3), (1, 1), "valid", True),
        ("conv2d_valid_s2_k3x2", 202, (2, 1, 8, 7), 2, (3, 2), (2, 2), "valid", True),
        ("conv2d_same_s1_k3", 203, (2, 3, 5, 5), 2, (3, 3), (1, 1), "same", True),
        ("conv2d_same_s2_k2x3_nobias", 204, (3, 2, 7, 6), 4, (2, 3), (2, 2), "same", False),
        ("conv2d_same_s2x1_k4", 205, (2, 2, 6, 5), 2, (4, 4), (2, 1), "same", True),
    ):
        gen = generator(seed)
        x = uniform(gen, shape)
        # Our kernel is (filters, C, KH, KW): PyTorch's OIHW layout, no conversion.
        params = [("kernel", uniform(gen, (filters, shape[1]) + kernel))]
        if use_bias:
            params.append(("bias", uniform(gen, (filters,))))

        def forward(x, weight, bias=None, kernel=kernel, strides=strides, padding=padding):
            if padding == "same":
                x = keras_same_pad(x, kernel, strides)
            return F.conv2d(x, weight, bias, stride=strides)

        layer_case(name, gen, x, forward, params)


def conv2d_pads_dilation_cases():
    """Explicit per-side pads and dilation: PyTorch's own padding and dilation arguments, no
    convention to bridge (F.pad takes (left, right, top, bottom); ours are (top, bottom, left,
    right)). Keras's 'same' with dilation pads the dilated span, (k - 1) d + 1."""
    # name, seed, (N, C, H, W), filters, kernel, strides, pads (top, bottom, left, right) or
    # "same", dilation, use_bias
    for name, seed, shape, filters, kernel, strides, pads, dilation, use_bias in (
        ("conv2d_pads3_s2_k7", 206, (2, 3, 11, 10), 4, (7, 7), (2, 2), (3, 3, 3, 3), (1, 1), True),
        ("conv2d_pads2103_d2x3_k3", 207, (2, 2, 7, 9), 3, (3, 3), (1, 2), (2, 1, 0, 3), (2, 3),
         True),
        ("conv2d_same_s2_d2_k3_nobias", 208, (2, 2, 7, 8), 3, (3, 3), (2, 2), "same", (2, 2),
         False),
    ):
        gen = generator(seed)
        x = uniform(gen, shape)
        params = [("kernel", uniform(gen, (filters, shape[1]) + kernel))]
        if use_bias:
            params.append(("bias", uniform(gen, (filters,))))

        def forward(x, weight, bias=None, kernel=kernel, strides=strides, pads=pads,
                    dilation=dilation):
            if pads == "same":
                span = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation))
                x = keras_same_pad(x, span, strides)
            else:
                top, bottom, left, right = pads
                x = F.pad(x, (left, right, top, bottom))
            return F.conv2d(x, weight, bias, stride=strides, dilation=dilation)

        layer_case(name, gen, x, forward, params)


POOL_CASES = (
    # suffix, seed offset, (N, C, H, W), pool, strides, padding
    ("valid_p2_s2", 1, (2, 2, 6, 7), (2, 2), (2, 2), "valid"),
    ("valid_p3_s1", 2, (2, 1, 5, 6), (3, 3), (1, 1), "valid"),
    ("same_p2_s2", 3, (2, 2, 5, 7), (2, 2), (2, 2), "same"),
    ("same_p3_s1", 4, (1, 3, 4, 5), (3, 3), (1, 1), "same"),
    ("same_p3x2_s2x1", 5, (2, 2, 5, 4), (3, 2), (2, 1), "same"),
)


def pooling_cases():
    for suffix, offset, shape, pool, strides, padding in POOL_CASES:
        gen = generator(300 + offset)
        x = uniform(gen, shape)

        def max_forward(x, pool=pool, strides=strides, padding=padding):
            if padding == "same":
                # Convention: Keras's 'same' max pooling pads with -inf (never the maximum).
                x = keras_same_pad(x, pool, strides, value=-float("inf"))
            return F.max_pool2d(x, pool, strides)

        layer_case("max_pool2d_" + suffix, gen, x, max_forward)

        gen = generator(400 + offset)
        x = uniform(gen, shape)

        def avg_forward(x, pool=pool, strides=strides, padding=padding):
            if padding == "valid":
                return F.avg_pool2d(x, pool, strides)
            # Convention: Keras's 'same' average pooling divides by the number of in-bounds
            # elements of each window (PyTorch's count_include_pad=False, which only exists for
            # symmetric padding): window sums of the zero-padded input over window counts of
            # ones, both as averages over the full window, whose divisor cancels.
            sums = F.avg_pool2d(keras_same_pad(x, pool, strides), pool, strides)
            ones = torch.ones((1, 1) + tuple(x.shape[2:]))
            counts = F.avg_pool2d(keras_same_pad(ones, pool, strides), pool, strides)
            return sums / counts

        layer_case("avg_pool2d_" + suffix, gen, x, avg_forward)

    gen = generator(501)
    layer_case("global_average_pooling2d", gen, uniform(gen, (3, 4, 5, 3)),
               lambda x: x.mean(dim=(2, 3)))


def batch_norm_cases():
    # name, seed, input shape, our momentum
    for name, seed, shape, momentum in (
        ("batch_norm_2d", 601, (5, 4), 0.99),
        ("batch_norm_4d", 602, (3, 2, 4, 3), 0.8),
    ):
        gen = generator(seed)
        channels = shape[1]
        # Convention: our momentum is Keras's, the weight of the old moving value; PyTorch's is
        # the weight of the new one, so PyTorch gets 1 - ours. Keras's epsilon 1e-3 (PyTorch's
        # default is 1e-5). Both normalise with the biased batch variance and average the
        # unbiased one into the moving variance.
        layer = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(
            channels, eps=1e-3, momentum=1.0 - momentum)
        gamma = uniform(gen, (channels,), 0.5, 1.5)
        beta = uniform(gen, (channels,))
        layer.weight = torch.nn.Parameter(gamma.clone())
        layer.bias = torch.nn.Parameter(beta.clone())
        # Inputs with a per-channel offset and spread, so the statistics are not trivially 0, 1.
        view = (1, channels) + (1,) * (len(shape) - 2)
        offset = uniform(gen, (channels,), -2.0, 2.0).reshape(view)
        spread = uniform(gen, (channels,), 0.5, 3.0).reshape(view)
        x1 = as_float32(uniform(gen, shape) * spread + offset)
        x2 = as_float32(uniform(gen, shape) * spread + offset)
        x_eval = as_float32(uniform(gen, shape) * spread + offset)

        layer.train()
        with torch.no_grad():
            y1 = layer(x1)
        x = x2.clone().requires_grad_(True)
        y = layer(x)
        r = uniform(gen, tuple(y.shape))
        (y * r).sum().backward()
        layer.eval()
        with torch.no_grad():
            y_eval = layer(x_eval)
        write_golden(name, [
            ("momentum", torch.tensor(momentum)), ("epsilon", torch.tensor(1e-3)),
            ("gamma", gamma), ("beta", beta),
            ("x1", x1), ("y1", y1),
            ("x", x2), ("r", r), ("y", y), ("dx", x.grad),
            ("grad/gamma", layer.weight.grad), ("grad/beta", layer.bias.grad),
            ("moving_mean", layer.running_mean), ("moving_variance", layer.running_var),
            ("x_eval", x_eval), ("y_eval", y_eval),
        ])


def elementwise_cases():
    for name, seed, shape, low, high, forward in (
        ("relu", 701, (2, 2, 3, 3), -1.0, 1.0, F.relu),
        # Convention: Keras's LeakyReLU slope 0.3 (PyTorch's default is 0.01).
        ("leaky_relu", 702, (3, 7), -1.0, 1.0, lambda x: F.leaky_relu(x, 0.3)),
        # Inputs up to where the derivatives, 1 - tanh^2 and s (1 - s), computed from a float
        # output (as every float implementation does, PyTorch's too) still hold 1e-5: their
        # rounding error grows like 2 u tanh^2 / (1 - tanh^2), past 1e-5 relative at |x| = 3.
        ("tanh", 703, (2, 3, 2, 4), -2.0, 2.0, torch.tanh),
        ("sigmoid", 704, (3, 2, 5), -4.0, 4.0, torch.sigmoid),
        ("softmax", 705, (4, 6), -3.0, 3.0, lambda x: F.softmax(x, dim=1)),
        ("flatten", 706, (2, 3, 2, 4), -1.0, 1.0, lambda x: x.reshape(x.shape[0], -1)),
    ):
        gen = generator(seed)
        layer_case(name, gen, uniform(gen, shape, low, high), forward)

    # Dropout is random in training; its golden case is the inference identity only (its
    # training-mode gradient is checked numerically in test_dropout.cpp).
    gen = generator(707)
    dropout = torch.nn.Dropout(0.5).eval()
    layer_case("dropout_inference", gen, uniform(gen, (3, 4)), dropout)


# ----------------------------------------------------------------------------------------------
# Losses: mean over the batch, as Keras's default reduction.

PROBABILITY_FLOOR = 1e-7  # Keras's epsilon: from probabilities, loss = -sum t log(max(p, 1e-7))


def probabilities(gen, batch, classes, labels):
    """Softmax rows, with one probability of sample 0 at its label set to 1e-9, below the floor,
    so the clipping (value -log(1e-7), gradient 0) is compared too."""
    p = as_float32(F.softmax(uniform(gen, (batch, classes), -2.0, 2.0), dim=1))
    p[0, labels[0]] = as_float32(torch.tensor(1e-9))
    return p


def loss_case(name, prediction, target, loss_of):
    prediction = prediction.clone().requires_grad_(True)
    loss = loss_of(prediction, target)
    loss.backward()
    write_golden(name, [("prediction", prediction), ("target", target), ("loss", loss),
                        ("gradient", prediction.grad)])


def loss_cases():
    batch, classes = 5, 4
    gen = generator(801)
    labels = torch.randint(0, classes, (batch,), generator=gen)
    one_hot = F.one_hot(labels, classes).to(torch.float64)
    logits = uniform(gen, (batch, classes), -3.0, 3.0)
    p = probabilities(gen, batch, classes, labels)

    def from_probabilities(p, t):
        # Convention: the gradient below the floor is 0 (clamp's), as ours; no renormalisation
        # of p (Keras divides p by its row sum first; minicnn and this reference do not).
        return -(t * torch.log(torch.clamp(p, min=PROBABILITY_FLOOR))).sum(dim=1).mean()

    # Sparse targets are class indices stored as numbers (minicnn stores them as T).
    loss_case("sparse_categorical_crossentropy_logits", logits, labels.to(torch.float64),
              lambda z, t: F.cross_entropy(z, t.long()))
    loss_case("sparse_categorical_crossentropy_probabilities", p, labels.to(torch.float64),
              lambda p, t: from_probabilities(p, F.one_hot(t.long(), classes)))
    loss_case("categorical_crossentropy_logits", logits, one_hot,
              lambda z, t: -(t * F.log_softmax(z, dim=1)).sum(dim=1).mean())
    loss_case("categorical_crossentropy_probabilities", p, one_hot, from_probabilities)

    gen = generator(802)
    # Keras's MSE: the mean over the batch of per-sample means, i.e. the mean of all N K terms.
    loss_case("mean_squared_error", uniform(gen, (4, 3)), uniform(gen, (4, 3)), F.mse_loss)


# ----------------------------------------------------------------------------------------------
# Optimizers: three steps on two parameters, (3, 4) and (5), with stored gradients.

STEPS = 3


def adam_keras_reference(params, grads, lr, beta_1, beta_2, epsilon):
    """Keras's Adam (minicnn's), used only to bound its difference from PyTorch's."""
    w = [p.clone() for p in params]
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    for t in range(1, STEPS + 1):
        alpha = lr * (1 - beta_2**t) ** 0.5 / (1 - beta_1**t)
        for i in range(len(w)):
            g = grads[t - 1][i]
            m[i] = beta_1 * m[i] + (1 - beta_1) * g
            v[i] = beta_2 * v[i] + (1 - beta_2) * g * g
            w[i] = w[i] - alpha * m[i] / (v[i].sqrt() + epsilon)
    return w


def optimizer_cases():
    cases = (
        ("sgd", lambda ps: torch.optim.SGD(ps, lr=0.1)),
        ("sgd_momentum", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)),
        # PyTorch's weight decay adds wd w to the gradient before the momentum, as ours.
        ("sgd_nesterov_weight_decay",
         lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
        # Convention: Keras's epsilon 1e-7 (PyTorch's default is 1e-8). PyTorch adds epsilon to
        # sqrt(v_hat), Keras to sqrt(v) after folding the bias corrections into the learning
        # rate; with these weights and gradients (|w|, |g| >= 0.5) the two differ by about 1e-8
        # relative after three steps (1.01e-8 measured, asserted < 1e-7 below), a thousand times
        # inside the tests' tolerance of 1e-5.
        ("adam", lambda ps: torch.optim.Adam(ps, lr=1e-3, betas=(0.9, 0.999), eps=1e-7)),
        # Convention: Keras's rho is PyTorch's alpha; Keras's epsilon 1e-7. PyTorch's momentum
        # buffer leaves lr out, the same steps at a constant lr.
        ("rmsprop", lambda ps: torch.optim.RMSprop(ps, lr=1e-2, alpha=0.9, eps=1e-7)),
        ("rmsprop_momentum",
         lambda ps: torch.optim.RMSprop(ps, lr=1e-2, alpha=0.9, eps=1e-7, momentum=0.9)),
    )
    for index, (name, make) in enumerate(cases):
        gen = generator(901 + index)
        initial = [away_from_zero(gen, (3, 4)), away_from_zero(gen, (5,))]
        grads = [[away_from_zero(gen, tuple(p.shape)) for p in initial] for _ in range(STEPS)]
        params = [torch.nn.Parameter(p.clone()) for p in initial]
        optimizer = make(params)
        tensors = [(f"param{i}", p) for i, p in enumerate(initial)]
        for step in range(1, STEPS + 1):
            for i, p in enumerate(params):
                p.grad = grads[step - 1][i].clone()
                tensors.append((f"step{step}/grad{i}", p.grad))
            optimizer.step()
            tensors += [(f"step{step}/param{i}", p.detach().clone()) for i, p in enumerate(params)]
        if name == "adam":
            keras = adam_keras_reference(initial, grads, 1e-3, 0.9, 0.999, 1e-7)
            worst = max(((k - p.detach()).abs() / p.detach().abs()).max().item()
                        for k, p in zip(keras, params))
            assert worst < 1e-7, f"Adam: Keras and PyTorch differ by {worst} relative"
        write_golden("optimizer_" + name, tensors)


# ----------------------------------------------------------------------------------------------
# The layers of MobileNet- and Xception-like models: DepthwiseConv2D, SeparableConv2D,
# ZeroPadding2D and ReLU(max_value = 6)


def explicit_pad(x, pads):
    """Explicit padding ((top, bottom), (left, right)), as ZeroPadding2D and ONNX's pads."""
    (top, bottom), (left, right) = pads
    return F.pad(x, (left, right, top, bottom))


def depthwise(x, weight, bias, kernel, strides, padding, dilation):
    """Our depthwise step: PyTorch's conv2d with groups = C on a (C*M, 1, KH, KW) kernel, output
    channel c*M + m reading channel c. padding is 'valid', 'same' (Keras's rule, on the dilated
    window D*(K-1)+1) or explicit ((top, bottom), (left, right))."""
    if padding == "same":
        span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        x = keras_same_pad(x, span, strides)
    elif padding != "valid":
        x = explicit_pad(x, padding)
    return F.conv2d(x, weight, bias, stride=strides, dilation=dilation, groups=x.shape[1])


def depthwise_separable_cases():
    # name, seed, (N, C, H, W), kernel, strides, padding, dilation, depth multiplier, use_bias
    for name, seed, shape, kernel, strides, padding, dilation, multiplier, use_bias in (
        ("depthwise_conv2d_valid_s1_k3", 1101, (2, 3, 6, 5), (3, 3), (1, 1), "valid", (1, 1), 1,
         True),
        ("depthwise_conv2d_same_s2_m2", 1102, (2, 2, 7, 6), (3, 3), (2, 2), "same", (1, 1), 2,
         True),
        ("depthwise_conv2d_pads_d2x1_m3_nobias", 1103, (1, 2, 8, 7), (2, 3), (1, 2),
         ((1, 2), (0, 1)), (2, 1), 3, False),
    ):
        gen = generator(seed)
        x = uniform(gen, shape)
        channels = shape[1] * multiplier
        params = [("depthwise_kernel", uniform(gen, (channels, 1) + kernel))]
        if use_bias:
            params.append(("bias", uniform(gen, (channels,))))

        def forward(x, weight, bias=None, kernel=kernel, strides=strides, padding=padding,
                    dilation=dilation):
            return depthwise(x, weight, bias, kernel, strides, padding, dilation)

        layer_case(name, gen, x, forward, params)

    # name, seed, (N, C, H, W), filters, kernel, strides, padding, depth multiplier, use_bias
    for name, seed, shape, filters, kernel, strides, padding, multiplier, use_bias in (
        ("separable_conv2d_same_s1_k3", 1104, (2, 3, 5, 6), 4, (3, 3), (1, 1), "same", 1, True),
        ("separable_conv2d_valid_s2_m2_nobias", 1105, (2, 2, 7, 7), 3, (3, 2), (2, 2), "valid",
         2, False),
    ):
        gen = generator(seed)
        x = uniform(gen, shape)
        channels = shape[1] * multiplier
        # Keras's parameters, in its order: the depthwise kernel, the pointwise (1x1) kernel
        # (F, C*M, 1, 1) in PyTorch's layout, and the bias of the pointwise step alone.
        params = [("depthwise_kernel", uniform(gen, (channels, 1) + kernel)),
                  ("pointwise_kernel", uniform(gen, (filters, channels, 1, 1)))]
        if use_bias:
            params.append(("bias", uniform(gen, (filters,))))

        def forward(x, depthwise_kernel, pointwise_kernel, bias=None, kernel=kernel,
                    strides=strides, padding=padding):
            z = depthwise(x, depthwise_kernel, None, kernel, strides, padding, (1, 1))
            return F.conv2d(z, pointwise_kernel, bias)

        layer_case(name, gen, x, forward, params)

    gen = generator(1106)
    layer_case("zero_padding2d", gen, uniform(gen, (2, 3, 3, 4)),
               lambda x: explicit_pad(x, ((1, 2), (0, 3))))
    # Convention: ReLU(max_value = 6) is clamp(x, 0, 6), ONNX's Clip(0, 6); inputs from -3 to 9
    # cross both kinks (none lands on one, where the conventions differ: see activations.hpp).
    gen = generator(1107)
    layer_case("relu6", gen, uniform(gen, (2, 3, 4, 5), -3.0, 9.0),
               lambda x: torch.clamp(x, 0.0, 6.0))


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    dense_cases()
    conv2d_cases()
    conv2d_pads_dilation_cases()
    pooling_cases()
    batch_norm_cases()
    elementwise_cases()
    loss_cases()
    optimizer_cases()
    depthwise_separable_cases()
    total = 0
    for name in sorted(os.listdir(OUT_DIR)):
        if name.endswith(".bin"):
            with open(os.path.join(OUT_DIR, name), "rb") as f:
                data = f.read()
            total += len(data)
            print(f"{hashlib.sha256(data).hexdigest()[:16]}  {len(data):6d}  {name}")
    print(f"total {total} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
