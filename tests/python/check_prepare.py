#!/usr/bin/env python3
"""check_prepare.py JSONL TEMPLATE H5 [H5 ...]

Independent check of `ram prepare`: reads the source JSONL itself (fields instruction /
output / rejected / id), builds the prompt with TEMPLATE ('{prompt}' replaced), and compares
every example of every H5 file (read with h5py, not with ram's reader). All files must hold
identical data (1 rank = 2 ranks = 3 ranks); provenance attributes may differ only in
world_size, created and command. Exit 1 with the first difference."""
import json
import sys

import h5py

src, template, files = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = [json.loads(l) for l in open(src, encoding="utf-8") if l.strip()]


def ragged(g, name):
    data, off = g[name][:], g[name + "_offsets"][:]
    assert off[0] == 0 and off[-1] == len(data), f"{name}: offsets do not cover the data"
    return [bytes(data[off[i]:off[i + 1]]).decode("utf-8") for i in range(len(off) - 1)]


def load(path):
    with h5py.File(path, "r") as f:
        g = f["examples"]
        out = {k: ragged(g, k) for k in ("id", "prompt_text", "chosen_text", "rejected_text")}
        out["index"] = [int(i) for i in g["index"][:]]
        out["world_size"] = int(f.attrs["world_size"])
        out["config"] = f.attrs["config"]
        return out


fail = []
loaded = [load(p) for p in files]
for path, d in zip(files, loaded):
    if d["index"] != list(range(len(rows))):
        fail.append(f"{path}: index is not 0..{len(rows) - 1}")
    for i, r in enumerate(rows):
        want = {"id": str(r["id"]), "prompt_text": template.replace("{prompt}", r["instruction"]),
                "chosen_text": r["output"], "rejected_text": r["rejected"]}
        for k, v in want.items():
            if i >= len(d[k]) or d[k][i] != v:
                got = d[k][i] if i < len(d[k]) else "<missing>"
                fail.append(f"{path}: example {i} {k} = {got!r}, source says {v!r}")
                break
for path, d in zip(files[1:], loaded[1:]):
    for k in ("index", "id", "prompt_text", "chosen_text", "rejected_text"):
        if d[k] != loaded[0][k]:
            fail.append(f"{path} differs from {files[0]} in {k}")
sizes = sorted(d["world_size"] for d in loaded)
if fail:
    print("FAIL:", "\n".join(fail[:10]))
    sys.exit(1)
print(f"ok: {len(rows)} examples identical in {len(files)} files (world sizes {sizes})")
