#!/usr/bin/env python3
"""A tiny cats-vs-dogs folder of PNG photos for the trainers' end-to-end tests (no lab photos here).

  python3 scripts/make_photo_folder.py DIR

Writes DIR/cat/ (reddish, horizontal stripes) and DIR/dog/ (bluish, vertical stripes), 10 photos
each, of mixed sizes (24x40 to 51x22) and colour modes (RGB, RGBA, grey), plus one corrupt file,
DIR/dog/broken.jpg, that a loader must report and skip. PNG is written by hand (zlib, CRC) so that
the script needs nothing beyond Python's standard library.
"""
import os
import struct
import sys
import zlib


def png(width, height, channels, pixel):
    colour_type = {1: 0, 3: 2, 4: 6}[channels]
    raw = b"".join(b"\x00" + b"".join(pixel(x, y) for x in range(width)) for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def main(root):
    classes = {"cat": ((200, 60, 40), False), "dog": ((40, 80, 210), True)}
    for label, (base, across) in classes.items():
        os.makedirs(os.path.join(root, label))
        for k in range(10):
            width, height, channels = 24 + 3 * k, 40 - 2 * k, (3, 4, 1)[k % 3]

            def pixel(x, y):
                on = ((x if across else y) // 4) % 2 == 0
                rgb = [min(255, v + (50 if on else 0)) for v in base]
                if channels == 1:
                    return bytes([sum(rgb) // 3])
                return bytes(rgb + ([255] if channels == 4 else []))

            with open(os.path.join(root, label, "%s.%d.png" % (label, k)), "wb") as out:
                out.write(png(width, height, channels, pixel))
    with open(os.path.join(root, "dog", "broken.jpg"), "wb") as out:
        out.write(b"\xff\xd8\xff\xe0 not really a photo")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_photo_folder.py DIR")
    main(sys.argv[1])
