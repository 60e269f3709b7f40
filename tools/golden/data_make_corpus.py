#!/usr/bin/python3
"""Writes the image/mask corpus of tests/AgVas.Tests/Fixtures/Data/corpus/ and its expected values.

Run with Debian's python3 (PIL 9.x, numpy):  /usr/bin/python3 tools/golden/data_make_corpus.py
Good files get expected RGB pixels (PIL's convert("RGB")) and expected masks under both rules, computed from
PIL's convert("L") luminance (the convention of /work/shared/data/real) or, where PIL cannot represent the
file (16-bit, palette index), from the stored values. Bad files get the problem the reader must report.
Everything is seeded; re-running gives the same bytes.
"""
import base64
import io
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "AgVas.Tests", "Fixtures", "Data", "corpus")
rng = np.random.default_rng(20260522)
expected = {}


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.uint8).tobytes()).decode()


def good(name, rgb, level_gt0, level_ge128, rgb_tolerance=0):
    h, w = level_gt0.shape
    expected[name] = {"kind": "good", "width": w, "height": h, "rgb": b64(rgb), "rgb_tolerance": rgb_tolerance,
                      "gt0": b64(level_gt0), "ge128": b64(level_ge128)}


def bad(name, problem):
    expected[name] = {"kind": "bad", "problem": problem}


def from_pil(name, im, **kw):
    """Expected values of a file PIL reads back faithfully: RGB and luminance straight from PIL."""
    back = Image.open(os.path.join(OUT, name))
    lum = np.array(back.convert("L"))
    good(name, np.array(back.convert("RGB")), lum > 0, lum >= 128, **kw)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png(name, samples, bit_depth, color_type, palette=None, interlace=False):
    """A minimal PNG writer (filter 0) for what PIL cannot write: 16-bit RGB, 4-bit grey, Adam7 interlacing."""
    h, w = samples.shape[:2]
    ch = 1 if samples.ndim == 2 else samples.shape[2]
    flat = samples.reshape(h, w, ch)

    def pack_rows(img):
        rows = b""
        for row in img:
            rows += b"\x00"
            if bit_depth == 16:
                rows += row.astype(">u2").tobytes()
            elif bit_depth == 8:
                rows += row.astype(np.uint8).tobytes()
            else:
                bits = "".join(format(int(v), f"0{bit_depth}b") for v in row.reshape(-1))
                bits += "0" * (-len(bits) % 8)
                rows += bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
        return rows

    if interlace:
        raw = b""
        for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
            sub = flat[y0::dy, x0::dx]
            if sub.size:
                raw += pack_rows(sub)
    else:
        raw = pack_rows(flat)
    data = b"\x89PNG\r\n\x1a\n"
    data += png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1 if interlace else 0))
    if palette is not None:
        data += png_chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    data += png_chunk(b"IDAT", zlib.compress(raw, 9))
    data += png_chunk(b"IEND", b"")
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def luma(r, g, b):
    """PIL's convert("L") in fixed point, written out for values PIL cannot hold (16-bit)."""
    return (r.astype(np.int64) * 19595 + g.astype(np.int64) * 38470 + b.astype(np.int64) * 7471 + 0x8000) >> 16


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))

    # RGB with many dark colours: checks the luminance formula and its rounding against PIL.
    rgb = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    rgb[:4] = rng.integers(0, 4, (4, 16, 3), dtype=np.uint8)
    rgb[4:6] = rng.integers(120, 136, (2, 16, 3), dtype=np.uint8)
    Image.fromarray(rgb, "RGB").save(os.path.join(OUT, "rgb_luma.png"))
    from_pil("rgb_luma.png", None)

    # 16-bit grey: 1/65535 must count as > 0 (8-bit decoding would lose it).
    v16 = np.array([[0, 1, 255, 256, 32895, 32896, 65535, 40000],
                    [2, 0, 0, 127 * 257, 128 * 257 - 1, 128 * 257, 60000, 0],
                    [0, 0, 0, 0, 0, 0, 0, 3]], dtype=np.uint16)
    Image.fromarray(v16, "I;16").save(os.path.join(OUT, "grey16.png"))
    rgb16 = np.repeat(np.round(v16 / 257.0).astype(np.uint8)[:, :, None], 3, axis=2)
    good("grey16.png", rgb16, v16 > 0, v16 >= 128 * 257, rgb_tolerance=1)

    # 16-bit RGB (PIL cannot write it).
    c16 = rng.integers(0, 65536, (5, 6, 3)).astype(np.uint16)
    c16[0, :3] = [[0, 0, 1], [0, 0, 0], [1, 0, 0]]
    c16[1, :2] = [[128 * 257, 128 * 257, 128 * 257], [128 * 257 - 1, 128 * 257 - 1, 128 * 257 - 1]]
    write_png("rgb16.png", c16, 16, 2)
    l16 = luma(c16[..., 0], c16[..., 1], c16[..., 2])
    good("rgb16.png", np.round(c16 / 257.0).astype(np.uint8), l16 > 0, l16 >= 128 * 257, rgb_tolerance=1)

    # Palette (VisA-like class ids): index 1 is black, index 4 has luminance 0, index 3 is lookout_cookies' green (L 113).
    idx = rng.integers(0, 6, (10, 14)).astype(np.uint8)
    idx[0, :6] = [0, 1, 2, 3, 4, 5]
    pal = [(0, 0, 0), (0, 0, 0), (255, 255, 255), (35, 164, 54), (0, 0, 1), (200, 130, 0)]
    im = Image.fromarray(idx, "P")
    im.putpalette([c for p in pal for c in p])
    im.save(os.path.join(OUT, "palette.png"))
    back = Image.open(os.path.join(OUT, "palette.png"))
    assert np.array_equal(np.array(back), idx), "PIL changed the palette indices"
    lum = np.array(back.convert("L"))
    good("palette.png", np.array(back.convert("RGB")), (idx != 0) | (lum > 0), lum >= 128)

    # Grey + alpha, including fully transparent pixels whose grey must survive.
    la = np.stack([rng.integers(0, 256, (9, 7)), rng.integers(0, 256, (9, 7))], axis=2).astype(np.uint8)
    la[0, :4, 0] = [0, 1, 127, 128]
    la[1, :, 1] = 0
    Image.fromarray(la, "LA").save(os.path.join(OUT, "grey_alpha.png"))
    from_pil("grey_alpha.png", None)

    # 1-bit PNG (BUSI's lesion masks) and 1-bit BMP (PH2's lesion masks).
    bits = rng.integers(0, 2, (11, 13)).astype(bool)
    Image.fromarray(bits).convert("1").save(os.path.join(OUT, "onebit.png"))
    from_pil("onebit.png", None)
    Image.fromarray(bits).convert("1").save(os.path.join(OUT, "onebit.bmp"))
    from_pil("onebit.bmp", None)

    # 8-bit palette BMP (KolektorSDD's labels): index 1 white, index 2 grey 85.
    kidx = rng.integers(0, 3, (8, 10)).astype(np.uint8)
    im = Image.fromarray(kidx, "P")
    im.putpalette([0, 0, 0, 255, 255, 255, 85, 85, 85] + [0] * (253 * 3))
    im.save(os.path.join(OUT, "palette.bmp"))
    from_pil("palette.bmp", None)

    # Interlaced (Adam7) 4-bit grey PNG: scaled to 8 bits as PIL scales (v * 17).
    g4 = rng.integers(0, 16, (11, 13)).astype(np.uint8)
    write_png("interlaced_grey4.png", g4, 4, 0, interlace=True)
    back = np.array(Image.open(os.path.join(OUT, "interlaced_grey4.png")).convert("L"))
    assert np.array_equal(back, g4 * 17), "PIL reads the interlaced file differently"
    good("interlaced_grey4.png", np.repeat(back[:, :, None], 3, axis=2), back > 0, back >= 128)

    # CMYK JPEG: decoded to RGB (checked against PIL's conversion with a JPEG tolerance).
    cmyk = np.zeros((16, 24, 4), dtype=np.uint8)
    cmyk[:, :8] = [0, 255, 255, 0]     # red
    cmyk[:, 8:16] = [255, 0, 255, 0]   # green
    cmyk[:, 16:] = [0, 0, 0, 128]      # grey
    Image.fromarray(cmyk, "CMYK").save(os.path.join(OUT, "cmyk.jpg"), quality=95)
    from_pil("cmyk.jpg", None, rgb_tolerance=12)

    # Grey JPEG mask with compression noise (Kvasir-SEG style).
    gj = np.zeros((16, 16), dtype=np.uint8)
    gj[4:12, 4:12] = 255
    Image.fromarray(gj, "L").save(os.path.join(OUT, "grey_mask.jpg"), quality=75)
    from_pil("grey_mask.jpg", None)

    # Bad files.
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), "RGB").save(buf, "PNG")
    with open(os.path.join(OUT, "truncated.png"), "wb") as f:
        f.write(buf.getvalue()[: len(buf.getvalue()) // 2])
    bad("truncated.png", "truncated")
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), "RGB").save(buf, "JPEG", quality=90)
    with open(os.path.join(OUT, "truncated.jpg"), "wb") as f:
        f.write(buf.getvalue()[: len(buf.getvalue()) // 2])
    bad("truncated.jpg", "truncated")
    open(os.path.join(OUT, "empty.png"), "wb").close()
    bad("empty.png", "empty file")
    with open(os.path.join(OUT, "text.png"), "w") as f:
        f.write("this is a text file, not an image\n")
    bad("text.png", "not a readable image")
    # A header that claims 100000 x 100000 pixels: must be refused before any allocation.
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 0, 0, 0, 0))
    data += png_chunk(b"IDAT", zlib.compress(b"\x00" * 10)) + png_chunk(b"IEND", b"")
    with open(os.path.join(OUT, "huge_header.png"), "wb") as f:
        f.write(data)
    bad("huge_header.png", "more than the limit")
    # A header under the pixel limit (8000 x 8000) whose data is a few bytes: truncated, refused before allocating.
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8000, 8000, 8, 2, 0, 0, 0))
    data += png_chunk(b"IDAT", zlib.compress(b"\x00" * 10)) + png_chunk(b"IEND", b"")
    with open(os.path.join(OUT, "lying_header.png"), "wb") as f:
        f.write(data)
    bad("lying_header.png", "cannot hold a 8000x8000 image")

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
