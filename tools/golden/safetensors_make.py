#!/usr/bin/python3
"""Golden safetensors fixtures for tests/AgVas.Tests/Checkpoints, and an independent checker.

Debian ships no `safetensors` package, so this script implements the format from its specification and the
reference writer's documented behaviour (huggingface/safetensors `prepare` + `serialize_file`; huggingface_hub
`split_state_dict_into_shards_factory`; transformers `save_pretrained` index), using numpy/torch 1.13 only to
produce the raw little-endian element bytes:

  * header = compact JSON (serde_json: no spaces, non-ASCII raw, control characters escaped), "__metadata__"
    first (keys sorted), then tensors ordered by DESCENDING dtype alignment rank, then by name (UTF-8 bytes);
  * header padded with spaces to a multiple of 8; 8-byte little-endian length prefix; data regions contiguous.
  * sharding: tensors assigned in state-dict order; a tensor larger than the limit gets a shard of its own;
    otherwise a new shard starts when the next tensor would exceed the limit; single shard -> model.safetensors;
    index = json.dumps({"metadata": {"total_size": N}, "weight_map": ...}, indent=2, sort_keys=True) + "\n".

Usage:
  /usr/bin/python3 tools/golden/safetensors_make.py            # (re)write the fixtures
  /usr/bin/python3 tools/golden/safetensors_make.py check PATH  # validate a file or checkpoint dir we wrote
"""
import json
import os
import struct
import sys
from fractions import Fraction

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "AgVas.Tests", "Fixtures", "Checkpoints")

# Reference enum order (increasing alignment); the writer sorts by descending rank.
DTYPES = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]
SIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}
NUMPY = {"BOOL": "|b1", "U8": "|u1", "I8": "|i1", "I16": "<i2", "U16": "<u2", "F16": "<f2", "I32": "<i4", "U32": "<u4",
         "F32": "<f4", "F64": "<f8", "I64": "<i8", "U64": "<u8", "F8_E5M2": "|u1", "F8_E4M3": "|u1"}
BITS = {"F16": "<u2", "BF16": "<u2", "F32": "<u4", "F64": "<u8"}  # floats are compared as bit patterns


class T:
    """A tensor as raw bytes: dtype name, shape, little-endian C-order data."""

    def __init__(self, dtype, shape, data):
        n = int(np.prod(shape, dtype=np.int64)) if shape else 1
        assert len(data) == n * SIZE[dtype], (dtype, shape, len(data))
        self.dtype, self.shape, self.data = dtype, list(shape), bytes(data)


def np_t(dtype, array):
    a = np.asarray(array).astype(NUMPY[dtype], order="C")  # (ascontiguousarray would turn a 0-d array 1-d)
    return T(dtype, a.shape, a.tobytes())


def bf16_t(values, shape):
    bits = torch.tensor(values, dtype=torch.float32).to(torch.bfloat16).view(torch.int16).numpy().astype("<i2")
    return T("BF16", shape, bits.tobytes())


def header_bytes(tensors, metadata):
    order = sorted(tensors.items(), key=lambda kv: (-DTYPES.index(kv[1].dtype), kv[0].encode("utf-8")))
    header, offset = {}, 0
    if metadata is not None:
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata, key=lambda k: k.encode("utf-8"))}
    for name, t in order:
        header[name] = {"dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + len(t.data)]}
        offset += len(t.data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return text, [t for _, t in order]


def serialize(tensors, metadata=None):
    text, order = header_bytes(tensors, metadata)
    return struct.pack("<Q", len(text)) + text + b"".join(t.data for t in order)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def e4m3fn_bits(b):
    """float32 bits of torch.float8_e4m3fn decoding, from the OCP FP8 definition (bias 7, no infinities); the NaNs
    S.1111.111 come out as c10's conversion makes them: sign kept, bits 0x7FF00000."""
    s, e, m = b >> 7, (b >> 3) & 15, b & 7
    if e == 15 and m == 7:
        return (s << 31) | 0x7FF00000
    mag = Fraction(m, 8) * Fraction(2) ** -6 if e == 0 else (1 + Fraction(m, 8)) * Fraction(2) ** (e - 7)
    v = float(mag)
    return struct.unpack("<I", struct.pack("<f", -v if s else v))[0]


def loaded_values(t):
    """What AgVas should load, as JSON numbers: integers for integer/bool dtypes (unsigned widened), bit patterns of
    the stored width for F16/BF16/F32/F64, float32 bit patterns of the decoded value for fp8."""
    raw = np.frombuffer(t.data, dtype="|u1")
    if t.dtype == "F8_E5M2":  # E5M2 is the upper byte of an IEEE half: decode through numpy's float16
        f = (raw.astype("<u2") << 8).view("<f2").astype("<f4")
        return [int(x) for x in f.view("<u4")]
    if t.dtype == "F8_E4M3":
        return [e4m3fn_bits(int(b)) for b in raw]
    if t.dtype in BITS:
        return [int(x) for x in np.frombuffer(t.data, dtype=BITS[t.dtype])]
    return [int(x) for x in np.frombuffer(t.data, dtype=NUMPY[t.dtype])]


def all_dtypes():
    rng = np.random.default_rng(7)
    t = {
        "bool": np_t("BOOL", [[True, False, True], [False, False, True]]),
        "u8": np_t("U8", np.array([0, 1, 127, 128, 254, 255], dtype=np.uint8).reshape(2, 3)),
        "i8": np_t("I8", np.array([-128, -1, 0, 1, 126, 127], dtype=np.int8)),
        "i16": np_t("I16", np.array([-32768, -2, 0, 3, 32767, 1234], dtype=np.int16).reshape(3, 2)),
        "u16": np_t("U16", np.array([0, 1, 32767, 32768, 65534, 65535], dtype=np.uint16)),
        "f16": np_t("F16", np.array([0.0, -0.0, 1.5, -65504.0, np.inf, np.nan, 6e-8, 0.333], dtype=np.float16).reshape(2, 2, 2)),
        "bf16": bf16_t([1.0, -2.5, 3.0e38, 1.0e-38, float("inf"), 0.1], [2, 3]),
        "i32": np_t("I32", np.array([-2**31, -1, 0, 2**31 - 1], dtype=np.int32).reshape(2, 2)),
        "u32": np_t("U32", np.array([0, 1, 2**31, 2**32 - 1], dtype=np.uint32)),
        "f32": np_t("F32", rng.standard_normal((3, 4)).astype(np.float32)),
        "f64": np_t("F64", np.array([np.pi, -np.e, 1e-300, 1e300, 0.0], dtype=np.float64)),
        "i64": np_t("I64", np.array([-2**63, -1, 0, 2**63 - 1], dtype=np.int64).reshape(1, 4)),
        "u64": np_t("U64", np.array([0, 1, 2**32, 2**63 - 1], dtype=np.uint64)),
        "f8_e4m3": T("F8_E4M3", [16, 16], bytes(range(256))),
        "f8_e5m2": T("F8_E5M2", [16, 16], bytes(range(256))),
        "scalar": np_t("F32", np.array(2.5, dtype=np.float32)),
        "empty": T("F32", [0, 3], b""),
    }
    metadata = {"format": "pt", "source": "tools/golden/safetensors_make.py"}
    write(os.path.join(OUT, "golden_all_dtypes.safetensors"), serialize(t, metadata))
    expected = {name: {"dtype": x.dtype, "shape": x.shape, "values": loaded_values(x)} for name, x in t.items()}
    with open(os.path.join(OUT, "golden_all_dtypes.json"), "w") as f:
        json.dump({"metadata": metadata, "tensors": expected}, f, indent=1, sort_keys=True)
        f.write("\n")


def writable():
    """Only dtypes TorchSharp can hold, with names and metadata that exercise escaping and name ordering."""
    rng = np.random.default_rng(11)
    t = {
        "b.weight": np_t("F32", rng.standard_normal((2, 3)).astype(np.float32)),
        "a.weight": np_t("F32", rng.standard_normal((3,)).astype(np.float32)),
        "Z.upper": np_t("F32", np.arange(4, dtype=np.float32)),
        "ünïcode.weight": np_t("F16", np.array([1.0, -2.0, 0.5], dtype=np.float16)),
        "quote\"back\\slash\ttab": np_t("I8", np.array([1, 2, 3], dtype=np.int8)),
        "mask": np_t("BOOL", [True, False, True, True, False]),
        "ids": np_t("I64", np.array([[1, 2], [3, 4]], dtype=np.int64)),
        "count": np_t("I32", np.array(7, dtype=np.int32)),
        "pixels": np_t("U8", np.arange(7, dtype=np.uint8)),
        "short": np_t("I16", np.array([-5, 5], dtype=np.int16)),
        "brain": bf16_t([0.5, -0.25, 100.0], [3]),
        "double": np_t("F64", np.array([1.0 / 3.0], dtype=np.float64)),
        "nothing": T("F16", [2, 0], b""),
    }
    metadata = {"format": "pt", "note": "golden ✓ \"quoted\"\nline\u0001", "z": "last"}
    write(os.path.join(OUT, "golden_writable.safetensors"), serialize(t, metadata))


def split_shards(items, max_shard_size):
    shards, current, current_size, total = [], {}, 0, 0
    for name, t in items:
        size = len(t.data)
        total += size
        if size > max_shard_size:
            shards.append({name: t})
            continue
        if current_size + size > max_shard_size:
            shards.append(current)
            current, current_size = {}, 0
        current[name] = t
        current_size += size
    if current:
        shards.append(current)
    return shards, total


def sharded():
    rng = np.random.default_rng(3)
    items = [
        ("model.embed_tokens.weight", np_t("F32", rng.standard_normal((8, 4)).astype(np.float32))),    # 128 B
        ("model.layers.0.self_attn.q_proj.weight", bf16_t(rng.standard_normal(16).tolist(), [4, 4])),  # 32 B
        ("model.layers.0.self_attn.q_proj.bias", np_t("F32", rng.standard_normal(4).astype(np.float32))),
        ("model.layers.0.mlp.up_proj.weight", np_t("F32", rng.standard_normal((4, 8)).astype(np.float32))),
        ("model.layers.0.input_layernorm.weight", np_t("F16", np.ones(4, dtype=np.float16))),
        ("model.norm.weight", np_t("F32", np.ones(4, dtype=np.float32))),
        ("lm_head.weight", np_t("F32", rng.standard_normal((8, 4)).astype(np.float32))),
    ]
    max_shard_size = 60
    shards, total = split_shards(items, max_shard_size)
    directory = os.path.join(OUT, "golden_sharded")
    os.makedirs(directory, exist_ok=True)
    for f in os.listdir(directory):
        os.remove(os.path.join(directory, f))
    weight_map = {}
    for i, shard in enumerate(shards):
        name = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        write(os.path.join(directory, name), serialize(shard, {"format": "pt"}))
        weight_map.update({k: name for k in shard})
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    with open(os.path.join(directory, "model.safetensors.index.json"), "w") as f:
        f.write(json.dumps(index, indent=2, sort_keys=True) + "\n")
    with open(os.path.join(OUT, "golden_sharded.json"), "w") as f:
        json.dump({"order": [n for n, _ in items], "max_shard_size": max_shard_size, "shards": len(shards)}, f, indent=1)
        f.write("\n")


def check_file(path):
    """Independent validation of one file by the reference rules; returns {name: (dtype, shape, numpy array)}."""
    data = open(path, "rb").read()
    assert len(data) >= 8, "too short"
    (n,) = struct.unpack("<Q", data[:8])
    assert n <= 100_000_000 and 8 + n <= len(data), f"bad header length {n}"
    assert n % 8 == 0, f"header length {n} not a multiple of 8"
    text = data[8:8 + n].decode("utf-8")
    pairs = json.loads(text, object_pairs_hook=lambda kv: kv)
    assert len({k for k, _ in pairs}) == len(pairs), "duplicate names"
    header = dict(pairs)
    meta = dict(header.pop("__metadata__", None) or [])
    assert all(isinstance(v, str) for v in meta.values())
    out, start = {}, 0
    infos = sorted(((k, dict(v)) for k, v in header.items()), key=lambda kv: tuple(kv[1]["data_offsets"]))
    for name, info in infos:
        b, e = info["data_offsets"]
        assert b == start and e >= b, f"{name}: offsets {b},{e} expected start {start}"
        count = int(np.prod(info["shape"], dtype=np.int64)) if info["shape"] else 1
        assert e - b == count * SIZE[info["dtype"]], f"{name}: byte length"
        raw = data[8 + n + b:8 + n + e]
        out[name] = (info["dtype"], info["shape"], np.frombuffer(raw, dtype=NUMPY.get(info["dtype"], "|u1")))
        start = e
    assert 8 + n + start == len(data), "data not covered exactly"
    # The reference writer's exact bytes for the same tensors and metadata.
    ts = {k: T(v[0], v[1], data[8 + n + dict(header[k])["data_offsets"][0]:8 + n + dict(header[k])["data_offsets"][1]])
          for k, v in out.items()}
    assert serialize(ts, meta if text.startswith('{"__metadata__"') else None) == data, "bytes differ from the reference writer's"
    return meta, out


def self_test():
    """The reference implementation's own serialization test vectors (safetensors/src/tensor.rs tests)."""
    f32 = np.arange(6, dtype="<f4").tobytes()
    h = b'{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'
    assert serialize({"attn.0": T("F32", [1, 2, 3], f32)}) == struct.pack("<Q", 64) + h + f32
    h = b'{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}' + b" " * 7
    assert serialize({"attn0": T("F32", [1, 1, 2, 3], f32)}) == struct.pack("<Q", 72) + h + f32
    assert serialize({}) == struct.pack("<Q", 8) + b"{}" + b" " * 6
    assert serialize({}, {"framework": "pt"}) == struct.pack("<Q", 40) + b'{"__metadata__":{"framework":"pt"}}' + b" " * 5


def check(path):
    files = [path]
    if os.path.isdir(path):
        index = os.path.join(path, "model.safetensors.index.json")
        if os.path.exists(index):
            weight_map = json.load(open(index))["weight_map"]
            files = sorted({os.path.join(path, f) for f in weight_map.values()})
        else:
            files = [os.path.join(path, "model.safetensors")]
    for f in files:
        meta, tensors = check_file(f)
        print(f"{f}: OK, metadata {meta}")
        for name, (dtype, shape, values) in tensors.items():
            print(f"  {name}: {dtype} {shape} {values[:6].tolist()}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    else:
        self_test()
        all_dtypes()
        writable()
        sharded()
        for f in ["golden_all_dtypes.safetensors", "golden_writable.safetensors", "golden_sharded"]:
            check(os.path.join(OUT, f))
