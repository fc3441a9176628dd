#!/usr/bin/env python3
"""Writes small valid seed files for the fuzz targets (fuzz/), one directory per target:

    python3 scripts/make_fuzz_seeds.py OUT_DIR
        ->  OUT_DIR/{idx,cifar10,cifar100,checkpoint,image,onnx}/

The ONNX seeds are the committed small models of tests/golden/onnx/ (PyTorch's exports, written
by tools/make_onnx_models.py), copied as they are.

The seeds are generated in the real formats (include/minicnn/data/idx.hpp, cifar.hpp,
io/checkpoint_file.hpp, and PNG and JPEG for data/image_file.hpp), a few hundred bytes to a few
kilobytes each, so no data set is ever needed or committed. Valid files let the fuzzers start past the magic numbers and checksums.
"""
import gzip
import os
import struct
import sys
import zlib


def idx(magic, extents, data):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", e) for e in extents) + data


def cifar(records, labels_per_record):
    # Record r: labels (r % 10, r % 7 ...) within every range, then 3072 pixel bytes.
    out = b""
    for r in range(records):
        out += bytes([(r + b) % 10 for b in range(labels_per_record)])
        out += bytes((7 * r + i) % 256 for i in range(3072))
    return out


# Checkpoint format, little-endian (io/checkpoint_file.hpp).
def u8(v): return struct.pack("<B", v)
def u32(v): return struct.pack("<I", v)
def i64(v): return struct.pack("<q", v)
def u64(v): return struct.pack("<Q", v)
def f64(v): return struct.pack("<d", v)
def string(s): return u32(len(s)) + s.encode()
def shape(extents): return u32(len(extents)) + b"".join(i64(e) for e in extents)
def config(entries): return u32(len(entries)) + b"".join(string(k) + string(v) for k, v in entries)


def tensors(named, scalar):
    out = u32(len(named))
    for name, extents in named:
        count = 1
        for e in extents:
            count *= e
        values = [0.25 * (i - 3) for i in range(count)]
        fmt = "<f" if scalar == 4 else "<d"
        out += string(name) + shape(extents) + b"".join(struct.pack(fmt, v) for v in values)
    return out


def checkpoint(scalar, layers, optimizer, epochs, input_shape=(3,), version=2, edges=None):
    """Version 2 stores the graph: `edges` maps a layer's name to the names it reads (default: a
    chain from "input"); the output is the last layer. Version 1 is the chain format before it."""
    out = b"MCNNCKPT" + u32(version) + u8(scalar)
    if version >= 2:
        out += string("input")
    out += shape(list(input_shape)) + u32(len(layers))
    previous = "input"
    for kind, name, cfg, named, random in layers:
        out += string(kind) + string(name) + config(cfg)
        if version >= 2:
            inputs = (edges or {}).get(name, [previous])
            out += u32(len(inputs)) + b"".join(string(i) for i in inputs) + u8(1)
        previous = name
        out += tensors(named, scalar)
        if random:
            out += u8(1) + b"".join(u64(w) for w in (1, 2, 3, 4)) + u8(1) + f64(-0.5)
        else:
            out += u8(0)
    if version >= 2:
        out += string(layers[-1][1] if layers else "")
    if optimizer:
        kind, cfg, slots = optimizer
        out += u8(1) + string(kind) + config(cfg) + f64(0.01) + i64(7) + tensors(slots, scalar)
    else:
        out += u8(0)
    out += i64(epochs)
    return out + u32(zlib.crc32(out) & 0xFFFFFFFF)


# PNG (ISO/IEC 15948): the signature, then chunks of length, type, data and CRC-32.
def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width, height, colour_type, depth, pixel_bytes, interlace=0, palette=None):
    """`pixel_bytes(x, y)` gives one pixel's bytes (a whole row's for depths below 8, at x = 0).
    Every scanline has filter type 0; interlace 1 is Adam7, pass by pass."""
    passes = ([(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
               (0, 1, 1, 2)] if interlace else [(0, 0, 1, 1)])
    raw = b""
    for x0, y0, dx, dy in passes:
        xs, ys = range(x0, width, dx), range(y0, height, dy)
        if not xs or not ys:
            continue
        for y in ys:
            row = pixel_bytes(0, y) if depth < 8 else b"".join(pixel_bytes(x, y) for x in xs)
            raw += b"\x00" + row
    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, interlace)
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
    if palette:
        out += png_chunk(b"PLTE", palette)
    return out + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")


# A baseline JPEG (ITU T.81) of flat blocks, written by hand (no encoder is needed): quantisation
# table 0 all ones, one DC and one AC Huffman table that each hold a single 1-bit code '0' (DC
# difference category 0; AC end-of-block), so every 8x8 block is the two bits '00' and the image
# is mid-grey. `components` lists (id, horizontal and vertical sampling); the entropy-coded data
# is 2 bits per block of every MCU, padded with 1 bits.
def jpeg(width, height, components):
    def segment(marker, data):
        return b"\xff" + bytes([marker]) + struct.pack(">H", len(data) + 2) + data

    out = b"\xff\xd8" + segment(0xDB, b"\x00" + bytes([1] * 64))
    sof = struct.pack(">BHHB", 8, height, width, len(components))
    for cid, h, v in components:
        sof += bytes([cid, (h << 4) | v, 0])
    out += segment(0xC0, sof)
    one_code = bytes([1] + [0] * 15) + b"\x00"  # one code of length 1, for symbol 0
    out += segment(0xC4, b"\x00" + one_code) + segment(0xC4, b"\x10" + one_code)
    sos = bytes([len(components)])
    for cid, _, _ in components:
        sos += bytes([cid, 0x00])
    out += segment(0xDA, sos + b"\x00\x3f\x00")
    hmax, vmax = max(c[1] for c in components), max(c[2] for c in components)
    mcus = -(-width // (8 * hmax)) * -(-height // (8 * vmax))
    if len(components) == 1:  # non-interleaved: one block per MCU of 8x8
        mcus, per_mcu = -(-width // 8) * -(-height // 8), 1
    else:
        per_mcu = sum(h * v for _, h, v in components)
    bits = "00" * mcus * per_mcu
    bits += "1" * (-len(bits) % 8)
    out += bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
    return out + b"\xff\xd9"


def image_seeds():
    yield "grey.png", png(3, 2, 0, 8, lambda x, y: bytes([40 * x + 100 * y]))
    yield "grey-alpha.png", png(2, 2, 4, 8, lambda x, y: bytes([60 * x, 255 - 60 * y]))
    yield "rgb.png", png(4, 3, 2, 8, lambda x, y: bytes([50 * x, 80 * y, 200]))
    yield "rgba.png", png(2, 3, 6, 8, lambda x, y: bytes([90 * x, 70 * y, 10, 128]))
    yield "palette.png", png(3, 2, 3, 8, lambda x, y: bytes([(x + y) % 3]),
                             palette=bytes([255, 0, 0, 0, 255, 0, 0, 0, 255]))
    yield "rgb16.png", png(2, 2, 2, 16, lambda x, y: struct.pack(">HHH", 9000 * x, 30000 * y, 1))
    yield "grey1.png", png(8, 2, 0, 1, lambda x, y: bytes([0b10110010 ^ y]))
    yield "rgb-interlaced.png", png(5, 5, 2, 8, lambda x, y: bytes([40 * x, 40 * y, 99]),
                                    interlace=1)
    yield "grey.jpg", jpeg(8, 8, [(1, 1, 1)])
    yield "grey-16x8.jpg", jpeg(16, 8, [(1, 1, 1)])
    yield "ycbcr.jpg", jpeg(8, 8, [(1, 1, 1), (2, 1, 1), (3, 1, 1)])
    yield "ycbcr-420.jpg", jpeg(16, 16, [(1, 2, 2), (2, 1, 1), (3, 1, 1)])
    yield "ycbcr-422-odd.jpg", jpeg(13, 7, [(1, 2, 1), (2, 1, 1), (3, 1, 1)])


def seeds():
    images = idx(0x803, [3, 2, 2], bytes(range(12)))
    labels = idx(0x801, [5], bytes([0, 1, 2, 9, 3]))
    yield "idx", "images", images
    yield "idx", "labels", labels
    yield "idx", "images.gz", gzip.compress(images, mtime=0)
    yield "idx", "labels.gz", gzip.compress(labels, mtime=0)
    yield "idx", "empty-images", idx(0x803, [0, 28, 28], b"")

    for target, label_bytes in (("cifar10", 1), ("cifar100", 2)):
        one, two = cifar(1, label_bytes), cifar(2, label_bytes)
        yield target, "one-record", one
        yield target, "two-records", two
        yield target, "one-record.gz", gzip.compress(one, mtime=0)

    dense = ("Dense", "dense_1", [("units", "2"), ("use_bias", "true")],
             [("kernel", [3, 2]), ("bias", [2])], False)
    dropout = ("Dropout", "dropout_1", [("rate", "0.5")], [], True)
    adam = ("Adam", [("beta_1", "0.9"), ("beta_2", "0.999")],
            [("kernel.m", [3, 2]), ("kernel.v", [3, 2])])
    yield "checkpoint", "empty-float", checkpoint(4, [], None, 0)
    yield "checkpoint", "dense-float", checkpoint(4, [dense], None, 1)
    yield "checkpoint", "dense-dropout-adam-double", checkpoint(8, [dense, dropout], adam, 3)
    # A whole model that Sequential::from_checkpoint rebuilds, so that the fuzzer starts from
    # configs the layer registry accepts: (1, 6, 6) -> Conv2D 2,3 (2, 4, 4) -> MaxPool 2
    # (2, 2, 2) -> Flatten 8 -> Dense 3 -> Softmax.
    dense_config = [("units", "3"), ("use_bias", "true"), ("kernel_initializer", "glorot_uniform")]
    model = [
        ("Conv2D", "conv2d_1",
         [("filters", "2"), ("kernel_size", "3x3"), ("strides", "1x1"), ("padding", "valid"),
          ("use_bias", "true"), ("kernel_initializer", "glorot_uniform")],
         [("kernel", [2, 1, 3, 3]), ("bias", [2])], False),
        ("ReLU", "re_lu_1", [], [], False),
        ("MaxPooling2D", "max_pooling2d_1",
         [("pool_size", "2x2"), ("strides", "2x2"), ("padding", "valid")], [], False),
        ("Flatten", "flatten_1", [], [], False),
        ("Dense", "dense_1", dense_config, [("kernel", [8, 3]), ("bias", [3])], False),
        ("Softmax", "softmax_1", [], [], False),
    ]
    yield "checkpoint", "conv-model-float", checkpoint(4, model, None, 2, (1, 6, 6))
    yield "checkpoint", "conv-model-float-v1", checkpoint(4, model, None, 2, (1, 6, 6), version=1)
    yield "checkpoint", "dense-dropout-adam-double-v1", checkpoint(8, [dense, dropout], adam, 3,
                                                                  version=1)
    # A residual graph that Model::from_checkpoint rebuilds: (2, 4, 4) -> Conv2D 2,3 'same'
    # -> ReLU -> Add(re_lu_1, input) -> Concatenate(add_1, input) (4, 4, 4) -> Flatten -> Dense 2.
    same = [("filters", "2"), ("kernel_size", "3x3"), ("strides", "1x1"), ("padding", "same"),
            ("use_bias", "true"), ("kernel_initializer", "glorot_uniform")]
    graph = [
        ("Conv2D", "conv2d_1", same, [("kernel", [2, 2, 3, 3]), ("bias", [2])], False),
        ("ReLU", "re_lu_1", [], [], False),
        ("Add", "add_1", [], [], False),
        ("Concatenate", "concatenate_1", [("axis", "1")], [], False),
        ("Flatten", "flatten_1", [], [], False),
        ("Dense", "dense_1", [("units", "2"), ("use_bias", "true"),
                              ("kernel_initializer", "glorot_uniform")],
         [("kernel", [64, 2]), ("bias", [2])], False),
    ]
    edges = {"add_1": ["re_lu_1", "input"], "concatenate_1": ["add_1", "input"]}
    # The mobile layers, so that their configs (explicit pads, dilation, max_value) are fuzzed:
    # (2, 5, 5) -> ZeroPadding2D 1,0,1,0 (2, 6, 6) -> DepthwiseConv2D 3x3 'valid' M=2 (4, 4, 4)
    # -> ReLU 6 -> SeparableConv2D 3 filters 3x3 pads 1,1,1,1 (3, 4, 4) -> Conv2D 2 3x3 pads 1,1,1,1
    # dilation 2 (2, 2, 2) -> Flatten.
    mobile = [
        ("ZeroPadding2D", "zero_padding2d_1", [("padding", "1,0,1,0")], [], False),
        ("DepthwiseConv2D", "depthwise_conv2d_1",
         [("kernel_size", "3x3"), ("strides", "1x1"), ("padding", "valid"),
          ("depth_multiplier", "2"), ("use_bias", "true"), ("dilation_rate", "1x1"),
          ("depthwise_initializer", "glorot_uniform")],
         [("depthwise_kernel", [4, 1, 3, 3]), ("bias", [4])], False),
        ("ReLU", "re_lu_1", [("max_value", "6")], [], False),
        ("SeparableConv2D", "separable_conv2d_1",
         [("filters", "3"), ("kernel_size", "3x3"), ("strides", "1x1"), ("padding", "1,1,1,1"),
          ("depth_multiplier", "1"), ("use_bias", "true"), ("dilation_rate", "1x1"),
          ("depthwise_initializer", "glorot_uniform"), ("pointwise_initializer", "glorot_uniform")],
         [("depthwise_kernel", [4, 1, 3, 3]), ("pointwise_kernel", [3, 4, 1, 1]), ("bias", [3])],
         False),
        ("Conv2D", "conv2d_1",
         [("filters", "2"), ("kernel_size", "3x3"), ("strides", "1x1"), ("padding", "explicit"),
          ("pads", "1,1,1,1"), ("use_bias", "true"), ("kernel_initializer", "glorot_uniform"),
          ("dilation_rate", "2x2")],
         [("kernel", [2, 3, 3, 3]), ("bias", [2])], False),
        ("Flatten", "flatten_1", [], [], False),
    ]
    yield "checkpoint", "mobile-layers-float", checkpoint(4, mobile, None, 0, (2, 5, 5))
    yield "checkpoint", "residual-graph-float", checkpoint(4, graph, None, 1, (2, 4, 4),
                                                           edges=edges)
    for name, data in image_seeds():
        yield "image", name, data


def onnx_seeds():
    models = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden",
                          "onnx")
    for name in sorted(os.listdir(models)):
        if name.endswith(".onnx"):
            with open(os.path.join(models, name), "rb") as f:
                yield "onnx", name, f.read()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_fuzz_seeds.py OUT_DIR")
    for target, name, data in list(seeds()) + list(onnx_seeds()):
        directory = os.path.join(sys.argv[1], target)
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, name), "wb") as out:
            out.write(data)


if __name__ == "__main__":
    main()
