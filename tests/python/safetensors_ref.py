#!/usr/bin/env python3
"""Independent safetensors reference for tests/unit/test_safetensors.cpp.

Built from the format description only (struct + json + numpy; no safetensors package):
  u64 little-endian N, N bytes of JSON header, then the data area; data_offsets are
  [begin, end) relative to the start of the data area.

Modes (exit 0 and print "OK" on success, print the mismatch and exit 1 otherwise):
  write DIR                    hand-written files DIR/hand_padded.safetensors (header padded
                               with spaces to 8 bytes: every tensor aligned) and
                               DIR/hand_unpadded.safetensors (data area at 2 mod 8: every
                               tensor wider than a byte misaligned), mixed dtypes
                               and shapes, header keys in a different order than the data
  check-read FILE DUMP         DUMP is what ram's reader saw in FILE (JSON: per tensor the
                               torch dtype, shape, raw bytes in hex and values); compares it
                               with the tensors `write` put there
  check-written FILE           layout and values of the file ram's writer made from SPEC
  check-sharded DIR MAX        the same for save_sharded(DIR, SPEC, MAX): shard split,
                               names, index.json, every shard
"""
import json
import math
import os
import struct
import sys

import numpy as np

ESIZE = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
         "U8": 1, "BOOL": 1}
NPTYPE = {"F32": "<f4", "F16": "<f2", "BF16": "<u2", "F64": "<f8", "I64": "<i8", "I32": "<i4",
          "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "u1"}
TORCH_NAME = {"F32": "Float", "F16": "Half", "BF16": "BFloat16", "F64": "Double",
              "I64": "Long", "I32": "Int", "I16": "Short", "I8": "Char", "U8": "Byte",
              "BOOL": "Bool"}
HAND_METADATA = {"format": "pt", "written_by": "safetensors_ref.py"}

# What the C++ test writes with ram::safetensors::save, in this order (mirrors kSpec there).
SPEC = [("zz.first", "F32", [4]), ("w.f32", "F32", [3, 5]), ("w.f16", "F16", [7]),
        ("w.bf16", "BF16", [2, 3]), ("w.f64", "F64", [2]), ("w.i64", "I64", [4]),
        ("w.i32", "I32", [3]), ("w.i16", "I16", [3]), ("w.i8", "I8", [5]),
        ("w.u8", "U8", [2, 2]), ("w.bool", "BOOL", [3]), ("w.scalar", "F32", []),
        ("w.empty", "F16", [0]), ("a.last", "BF16", [1, 3])]
WRITTEN_METADATA = {"format": "pt", "who": "ram"}


def fail(msg):
    print("MISMATCH:", msg)
    sys.exit(1)


def f32_to_bf16_bits(x32):
    """Round-to-nearest-even float32 -> bfloat16 bits (what c10::BFloat16 does)."""
    u = x32.astype("<f4").view("<u4").astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return rounded.astype("<u2")


def spec_values(dtype, shape):
    """The formula the C++ test uses: k*0.37-3 for floats (double, then cast as c10 does:
    via float), k*7-5 for signed ints, k*7 for U8, k odd for BOOL."""
    n = int(np.prod(shape)) if shape else 1
    k = np.arange(n, dtype=np.float64)
    f = k * 0.37 - 3.0
    if dtype == "F32":
        a = f.astype("<f4")
    elif dtype == "F64":
        a = f.astype("<f8")
    elif dtype == "F16":
        a = f.astype(np.float32).astype("<f2")
    elif dtype == "BF16":
        a = f32_to_bf16_bits(f.astype(np.float32))
    elif dtype == "U8":
        a = (np.arange(n, dtype=np.int64) * 7).astype("u1")
    elif dtype == "BOOL":
        a = (np.arange(n) % 2 == 1).astype("u1")
    else:
        a = (np.arange(n, dtype=np.int64) * 7 - 5).astype(NPTYPE[dtype])
    return a.reshape(shape)


def hand_tensors():
    """Mixed dtypes, shapes and special values; (name, dtype, shape, array of raw type)."""
    rng = np.random.RandomState(7)
    f32 = rng.randn(4, 5).astype("<f4")
    f32.flat[:5] = [-0.0, np.inf, -np.inf, np.nan, 1e-40]  # signed zero, specials, subnormal
    f16 = rng.randn(7).astype("<f2")
    f16[:3] = [-0.0, np.inf, 6e-8]
    bf16 = rng.randint(0, 1 << 16, size=(2, 3, 2)).astype("<u2")  # any bit pattern
    return [
        ("a.bytes", "U8", [3], np.array([1, 2, 255], dtype="u1")),  # misaligns what follows
        ("b.f32", "F32", [4, 5], f32),
        ("c.f16", "F16", [7], f16),
        ("d.bf16", "BF16", [2, 3, 2], bf16),
        ("e.f64", "F64", [3], np.array([math.pi, -1e300, 5e-324], dtype="<f8")),
        ("f.i64", "I64", [2, 2], np.array([[2**62, -(2**62)], [-1, 12345678901]], dtype="<i8")),
        ("g.i32", "I32", [5], np.array([0, -1, 2**31 - 1, -(2**31), 42], dtype="<i4")),
        ("h.i16", "I16", [3], np.array([-32768, 32767, 7], dtype="<i2")),
        ("i.i8", "I8", [4], np.array([-128, -1, 0, 127], dtype="i1")),
        ("j.bool", "BOOL", [5], np.array([1, 0, 0, 1, 1], dtype="u1")),
        ("k.scalar", "F32", [], np.array(2.5, dtype="<f4")),
        ("l.empty", "F32", [0, 3], np.zeros((0, 3), dtype="<f4")),
        ("m.matrix", "F32", [16, 16], rng.randn(16, 16).astype("<f4")),
    ]


# Data order of the padded file: widest types first, so every tensor is aligned for its type
# (the reader may view them in place). The unpadded file keeps hand_tensors() order after a
# header of length 2 mod 8, so every tensor wider than a byte is misaligned (the reader
# must copy).
ALIGNED_ORDER = ["e.f64", "f.i64", "b.f32", "m.matrix", "g.i32", "k.scalar", "l.empty",
                 "c.f16", "d.bf16", "h.i16", "a.bytes", "i.i8", "j.bool"]


def write_hand(path, pad):
    tensors = hand_tensors()
    if pad:
        tensors.sort(key=lambda t: ALIGNED_ORDER.index(t[0]))
    entries, blobs, off = {}, [], 0
    for name, dt, shape, arr in tensors:
        b = arr.tobytes()
        if pad and off % ESIZE[dt]:
            raise AssertionError(f"{name} would be unaligned in the padded file")
        assert len(b) == ESIZE[dt] * (int(np.prod(shape)) if shape else 1)
        entries[name] = {"data_offsets": [off, off + len(b)], "shape": shape, "dtype": dt}
        blobs.append(b)
        off += len(b)
    # Header keys in reverse order of the data, metadata last: readers must not care.
    header = {k: entries[k] for k in reversed(list(entries))}
    header["__metadata__"] = HAND_METADATA
    text = json.dumps(header).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    else:
        # Data area at 2 mod 8 from the (page-aligned) start: with hand_tensors() order every
        # tensor wider than a byte is then misaligned for its type.
        text += b" " * ((10 - len(text) % 8) % 8)
        for name, e in entries.items():
            esize = ESIZE[e["dtype"]]
            if esize > 1 and e["data_offsets"][1] > e["data_offsets"][0]:
                assert (8 + len(text) + e["data_offsets"][0]) % esize != 0, name
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def decode(dt, raw):
    a = np.frombuffer(raw, dtype=NPTYPE[dt])
    if dt == "BF16":
        return (a.astype(np.uint32) << 16).view("<f4").astype(np.float64)
    return a.astype(np.float64)


def value_token(v):
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def check_read(path, dump_path):
    dump = json.load(open(dump_path))
    if dump.get("metadata") != HAND_METADATA:
        fail(f"metadata {dump.get('metadata')} != {HAND_METADATA}")
    expected = hand_tensors()
    if sorted(dump["tensors"]) != sorted(t[0] for t in expected):
        fail(f"names {sorted(dump['tensors'])}")
    for name, dt, shape, arr in expected:
        got = dump["tensors"][name]
        if got["torch_dtype"] != TORCH_NAME[dt]:
            fail(f"{name}: dtype {got['torch_dtype']}, expected {TORCH_NAME[dt]}")
        if got["shape"] != shape:
            fail(f"{name}: shape {got['shape']}, expected {shape}")
        raw = arr.tobytes()
        if bytes.fromhex(got["hex"]) != raw:
            fail(f"{name}: bytes {got['hex']} != {raw.hex()}")
        want = [value_token(float(v)) for v in decode(dt, raw)]
        if got["values"] != want:
            fail(f"{name}: values {got['values']} != {want}")
    print("OK")


def check_layout(path, spec, metadata):
    """Checks one file ram wrote holding `spec` (in this order) and returns nothing."""
    blob = open(path, "rb").read()
    if len(blob) < 8:
        fail(f"{path}: {len(blob)} bytes")
    (n,) = struct.unpack("<Q", blob[:8])
    if n % 8 != 0:
        fail(f"{path}: header length {n} is not a multiple of 8")
    text = blob[8:8 + n].decode("utf-8")
    body = text.rstrip(" ")
    if len(text) - len(body) >= 8:
        fail(f"{path}: {len(text) - len(body)} padding spaces")
    pairs = json.loads(body, object_pairs_hook=lambda kv: kv)
    keys = [k for k, _ in pairs]
    want_keys = (["__metadata__"] if metadata else []) + [s[0] for s in spec]
    if keys != want_keys:
        fail(f"{path}: header keys {keys}, expected {want_keys}")
    header = {k: dict(v) if isinstance(v, list) else v for k, v in pairs}
    if metadata and dict(header["__metadata__"]) != metadata:
        fail(f"{path}: metadata {header['__metadata__']}")
    data = blob[8 + n:]
    off = 0
    for name, dt, shape in spec:
        e = header[name]
        if e["dtype"] != dt or e["shape"] != shape:
            fail(f"{path}: {name} is {e['dtype']} {e['shape']}, expected {dt} {shape}")
        nbytes = ESIZE[dt] * (int(np.prod(shape)) if shape else 1)
        if e["data_offsets"] != [off, off + nbytes]:
            fail(f"{path}: {name} offsets {e['data_offsets']}, expected {[off, off + nbytes]}")
        got = data[off:off + nbytes]
        want = spec_values(dt, shape).tobytes()
        if got != want:
            fail(f"{path}: {name} bytes {got.hex()} != {want.hex()}")
        off += nbytes
    if off != len(data):
        fail(f"{path}: data area is {len(data)} bytes, tensors cover {off}")


def check_sharded(d, max_bytes):
    sizes = [ESIZE[dt] * (int(np.prod(sh)) if sh else 1) for _, dt, sh in SPEC]
    groups, size = [[]], 0
    for s, nb in zip(SPEC, sizes):  # HF's greedy split, in order
        if groups[-1] and size + nb > max_bytes:
            groups.append([])
            size = 0
        groups[-1].append(s)
        size += nb
    if len(groups) < 2:
        fail("test SPEC must need several shards at this size")
    names = [f"model-{i + 1:05d}-of-{len(groups):05d}.safetensors" for i in range(len(groups))]
    files = sorted(f for f in os.listdir(d) if not f.startswith("."))
    if files != sorted(names + ["model.safetensors.index.json"]):
        fail(f"{d} holds {files}")
    index = json.load(open(os.path.join(d, "model.safetensors.index.json")))
    if index["metadata"] != {"total_size": sum(sizes)}:
        fail(f"index metadata {index['metadata']}, total {sum(sizes)}")
    want_map = {s[0]: names[i] for i, g in enumerate(groups) for s in g}
    if index["weight_map"] != want_map:
        fail(f"weight_map {index['weight_map']} != {want_map}")
    for name, g in zip(names, groups):
        check_layout(os.path.join(d, name), g, WRITTEN_METADATA)


def main(argv):
    mode = argv[1]
    if mode == "write":
        write_hand(os.path.join(argv[2], "hand_padded.safetensors"), pad=True)
        write_hand(os.path.join(argv[2], "hand_unpadded.safetensors"), pad=False)
        print("OK")
    elif mode == "check-read":
        check_read(argv[2], argv[3])
    elif mode == "check-written":
        check_layout(argv[2], SPEC, WRITTEN_METADATA)
        print("OK")
    elif mode == "check-sharded":
        check_sharded(argv[2], int(argv[3]))
        print("OK")
    else:
        fail(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv)
