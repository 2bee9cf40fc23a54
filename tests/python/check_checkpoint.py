#!/usr/bin/env python3
"""check_checkpoint.py --ckpt STEP.h5 --model HF_DIR [--world-size W] [--fake-state]

Independent check of a ram training checkpoint (train/checkpoint.hpp), read with h5py (not
ram's reader) against the HF directory the model came from, whose model.safetensors is
parsed here from the format description (struct + json + numpy):
  - /model holds exactly the safetensors' tensors, same shape, dtype attribute matching
    (bf16 stored as its uint16 bits), bit-identical values;
  - root attributes present and sane: provenance (ram_version, git_commit, config, created,
    command, world_size), hf_config_json (JSON equal to the dir's config.json), model_type,
    tokenizer_fingerprint (sha256 of the dir's tokenizer.json), optimizer, step,
    examples_seen, epoch, epoch_cursor, seed, zero1, metrics_json (a JSON object);
  - /optimizer: layout_names (ragged UTF-8) and layout_offsets int64[P+1] from 0, each
    parameter spanning the numel of its /model tensor; every state float32[N]; master
    present exactly when the model is not float32;
  - /tokenizer/<file>: one ragged item equal to the dir's file bytes;
  - --fake-state: the states hold tests/mpi/fake_optimizer_state.hpp's values
    (element i of state k: ((37 i + 101 k) mod 1009) - 504).
Prints OK, or the problems and exits 1."""
import argparse
import hashlib
import json
import os
import struct
import sys

import h5py
import numpy as np

ST_DTYPES = {"F32": ("float32", np.float32), "BF16": ("bfloat16", np.uint16),
             "F16": ("float16", np.uint16), "I64": ("int64", np.int64)}
FAKE = {"exp_avg": 1, "exp_avg_sq": 2, "master": 3}
REQUIRED_ATTRS = ["ram_version", "git_commit", "config", "created", "command", "world_size",
                  "hf_config_json", "model_type", "tokenizer_fingerprint", "optimizer", "step",
                  "examples_seen", "epoch", "epoch_cursor", "seed", "zero1", "metrics_json"]


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dname, np_type = ST_DTYPES[info["dtype"]]
        b, e = info["data_offsets"]
        out[name] = (dname, np.frombuffer(data[b:e], dtype=np_type).reshape(info["shape"]))
    return out


def attr_str(v):
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def ragged(f, name):
    data = f[name][()].tobytes()
    off = f[name + "_offsets"][()]
    return [data[off[i]:off[i + 1]] for i in range(len(off) - 1)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--world-size", type=int, default=None)
    ap.add_argument("--fake-state", action="store_true")
    a = ap.parse_args()
    bad = []
    st = read_safetensors(os.path.join(a.model, "model.safetensors"))
    with open(os.path.join(a.model, "config.json"), "rb") as fc:
        config = json.loads(fc.read())
    with h5py.File(a.ckpt, "r") as f:
        # /model
        names = set(f["model"].keys())
        if names != set(st):
            bad.append("/model names differ: only in the file %s, only in safetensors %s"
                       % (sorted(names - set(st))[:5], sorted(set(st) - names)[:5]))
        model_f32 = True
        for name in sorted(names & set(st)):
            dname, ref = st[name]
            d = f["model"][name]
            got = d[()]
            if attr_str(d.attrs.get("dtype", b"")) != dname:
                bad.append("/model/%s dtype attr %r, safetensors %s" % (name, d.attrs.get("dtype"), dname))
            if dname != "float32":
                model_f32 = False
            if got.shape != ref.shape or got.dtype != ref.dtype or got.tobytes() != ref.tobytes():
                bad.append("/model/%s differs from model.safetensors (%s %s vs %s %s)"
                           % (name, got.dtype, got.shape, ref.dtype, ref.shape))
        # attributes
        attrs = f.attrs
        for k in REQUIRED_ATTRS:
            if k not in attrs:
                bad.append("missing root attribute %s" % k)
        if not bad:
            if json.loads(attr_str(attrs["hf_config_json"])) != config:
                bad.append("hf_config_json differs from config.json")
            if attr_str(attrs["model_type"]) != config["model_type"]:
                bad.append("model_type %s" % attr_str(attrs["model_type"]))
            with open(os.path.join(a.model, "tokenizer.json"), "rb") as ft:
                fp = "sha256:" + hashlib.sha256(ft.read()).hexdigest()
            if attr_str(attrs["tokenizer_fingerprint"]) != fp:
                bad.append("tokenizer_fingerprint %s, expected %s" % (attr_str(attrs["tokenizer_fingerprint"]), fp))
            if attr_str(attrs["optimizer"]) not in ("rmsprop", "adamw"):
                bad.append("optimizer %s" % attr_str(attrs["optimizer"]))
            if int(attrs["zero1"]) not in (0, 1):
                bad.append("zero1 %s" % attrs["zero1"])
            if a.world_size is not None and int(attrs["world_size"]) != a.world_size:
                bad.append("world_size %s, expected %d" % (attrs["world_size"], a.world_size))
            if a.world_size is not None and int(attrs["zero1"]) != int(a.world_size > 1) and a.fake_state:
                bad.append("zero1 %s with %d ranks" % (attrs["zero1"], a.world_size))
            for k in ("step", "examples_seen", "epoch", "epoch_cursor"):
                if int(attrs[k]) < 0:
                    bad.append("%s = %s" % (k, attrs[k]))
            if not isinstance(json.loads(attr_str(attrs["metrics_json"])), dict):
                bad.append("metrics_json is not a JSON object")
        # /optimizer
        opt = f["optimizer"]
        lnames = [b.decode("utf-8") for b in ragged(f, "optimizer/layout_names")]
        off = opt["layout_offsets"][()]
        if off.dtype != np.int64 or len(off) != len(lnames) + 1 or off[0] != 0:
            bad.append("layout_offsets %s for %d names" % (off.dtype, len(lnames)))
        else:
            for i, n in enumerate(lnames):
                if n not in f["model"]:
                    bad.append("layout name %s not in /model" % n)
                elif off[i + 1] - off[i] != f["model"][n].size:
                    bad.append("layout span of %s is %d, numel %d" % (n, off[i + 1] - off[i], f["model"][n].size))
        total = int(off[-1])
        states = [k for k in opt.keys() if k not in ("layout_names", "layout_names_offsets", "layout_offsets")]
        if ("master" in states) == model_f32:
            bad.append("master %s for a %s model" % ("present" if "master" in states else "absent",
                                                     "float32" if model_f32 else "non-float32"))
        if len([s for s in states if s != "master"]) == 0:
            bad.append("no optimizer state")
        for s in states:
            v = opt[s][()]
            if v.dtype != np.float32 or v.shape != (total,):
                bad.append("/optimizer/%s is %s%s, expected float32[%d]" % (s, v.dtype, v.shape, total))
                continue
            if a.fake_state:
                if s not in FAKE:
                    bad.append("unexpected state %s" % s)
                    continue
                i = np.arange(total, dtype=np.int64)
                want = (((i * 37 + FAKE[s] * 101) % 1009) - 504).astype(np.float32)
                wrong = np.nonzero(v != want)[0]
                if len(wrong):
                    bad.append("/optimizer/%s differs from the made-up state at %d elements, first %d"
                               % (s, len(wrong), wrong[0]))
        # /tokenizer
        tok = f["tokenizer"]
        files = [k for k in tok.keys() if not (k.endswith("_offsets") and k[:-8] in tok)]
        if "tokenizer.json" not in files:
            bad.append("no /tokenizer/tokenizer.json")
        for k in files:
            items = ragged(f, "tokenizer/" + k)
            with open(os.path.join(a.model, k), "rb") as ft:
                if items != [ft.read()]:
                    bad.append("/tokenizer/%s differs from %s" % (k, os.path.join(a.model, k)))
    if bad:
        print("\n".join(bad))
        sys.exit(1)
    print("OK: %d tensors, %d optimizer elements, %d tokenizer files" % (len(names), total, len(files)))


if __name__ == "__main__":
    main()
