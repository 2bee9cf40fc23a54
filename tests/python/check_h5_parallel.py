#!/usr/bin/env python3
"""Check an HDF5 file written by ram::h5::Writer against expected values, reading it with
h5py only (never ram's reader), the way docs/formats.md tells users to.

usage: check_h5_parallel.py FILE EXPECTED.json

EXPECTED.json:
  {"ragged":     {"/examples/prompt_text": ["str", ...]},          # flat uint8 + _offsets
   "ragged_ids": {"/examples/proposal_ids": [[1, 2], [], ...]},     # flat int32 + _offsets
   "arrays":     {"/examples/index": {"dtype": "int64", "values": [...]}},
   "tensors":    {"/model/w": {"dtype": "bfloat16", "shape": [2, 3], "bits": [...]}},
   "attrs":      {"/": {"world_size": 2, "command": "..."}}}
Exit 0 when everything matches; otherwise each mismatch on its own line and exit 1."""
import json
import sys

import h5py
import numpy as np


def ragged(f, name):
    data, offs = f[name][:], f[name + "_offsets"][:]
    if offs.dtype != np.int64:
        raise AssertionError(f"{name}_offsets is {offs.dtype}, expected int64")
    if offs[0] != 0 or offs[-1] != len(data) or (np.diff(offs) < 0).any():
        raise AssertionError(f"{name}: offsets not 0..len(data) monotone: {offs.tolist()}")
    return [data[offs[i]:offs[i + 1]] for i in range(len(offs) - 1)]


def main():
    path, expected_path = sys.argv[1], sys.argv[2]
    with open(expected_path, encoding="utf-8") as fh:
        exp = json.load(fh)
    problems = []

    def same(what, got, want):
        if got != want:
            problems.append(f"{what}: got {got!r}, expected {want!r}")

    with h5py.File(path, "r") as f:
        for name, want in exp.get("ragged", {}).items():
            if f[name].dtype != np.uint8:
                problems.append(f"{name}: dtype {f[name].dtype}, expected uint8")
            got = [bytes(x).decode("utf-8") for x in ragged(f, name)]
            same(name, got, want)
        for name, want in exp.get("ragged_ids", {}).items():
            if f[name].dtype != np.int32:
                problems.append(f"{name}: dtype {f[name].dtype}, expected int32")
            same(name, [x.tolist() for x in ragged(f, name)], want)
        for name, want in exp.get("arrays", {}).items():
            d = f[name]
            same(name + " dtype", str(d.dtype), want["dtype"])
            same(name, d[:].tolist(), want["values"])
        for name, want in exp.get("tensors", {}).items():
            d = f[name]
            same(name + " dtype attr", d.attrs.get("dtype"), want["dtype"])
            same(name + " shape", list(d.shape), want["shape"])
            if want["dtype"] in ("bfloat16", "float16"):
                same(name + " storage", str(d.dtype), "uint16")
            same(name + " bits", d[:].ravel().tolist(), want["bits"])
        for obj, attrs in exp.get("attrs", {}).items():
            for key, want in attrs.items():
                if key not in f[obj].attrs:
                    problems.append(f"{obj}@{key}: missing")
                    continue
                got = f[obj].attrs[key]
                if isinstance(got, np.ndarray):
                    got = got.tolist()
                elif isinstance(got, np.generic):
                    got = got.item()
                same(f"{obj}@{key}", got, want)

    for p in problems:
        print("MISMATCH " + p)
    if problems:
        sys.exit(1)
    print("ok: " + path + " matches " + expected_path)


if __name__ == "__main__":
    main()
