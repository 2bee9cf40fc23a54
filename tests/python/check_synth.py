#!/usr/bin/env python3
"""check_synth.py --data JSONL --tokenizer DIR --n N --max-new-tokens M --max-length L
                  --max-prompt-length P [--stop S ...] [--skipped K] [--min-truncated T]
                  SYNTH.h5 [SYNTH.h5 ...]

Independent check of `ram sample` output, read with h5py (not ram's reader):
  - the first file against the source JSONL (fields prompt / chosen): rows are every
    non-skipped example × samples 0..N-1 in order; prompt_text and chosen_text are the
    source's; empty prompts are the skipped ones;
  - per row invariants: finish_reason ∈ {0 eos, 1 stop_string, 2 length}; `length` rows hit
    max_new_tokens or max_length; `eos` rows end with an EOS id; proposal_text equals the
    byte-level BPE decoding of proposal_ids (GPT-2 style tokenizer.json, decoded here in
    Python, special tokens skipped), cut before the first stop string for stop_string rows;
    logprob finite and < 0; prompt_tokens ≤ P and truncated rows have exactly P;
  - every further file holds the same contents (ids, text, finish, index, ...) and
    logprobs within 1e-4: 1 rank = 3 ranks = other batch sizes = resumed runs.
Exit 1 with the differences."""
import argparse
import json
import math
import os
import sys

import h5py
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True)
ap.add_argument("--tokenizer", required=True)
ap.add_argument("--n", type=int, default=1)
ap.add_argument("--max-new-tokens", type=int, required=True)
ap.add_argument("--max-length", type=int, required=True)
ap.add_argument("--max-prompt-length", type=int, required=True)
ap.add_argument("--stop", action="append", default=[])
ap.add_argument("--skipped", type=int, default=0)
ap.add_argument("--min-truncated", type=int, default=0)
ap.add_argument("--logprob-tol", type=float, default=1e-4)
ap.add_argument("--score-with", nargs=2, metavar=("RAM_BIN", "MODEL_DIR"),
                help="also recompute each sample's log-prob with `ram score` (full-sequence "
                     "forward, no KV cache) from the kept prompt tokens and compare")
ap.add_argument("files", nargs="+")
a = ap.parse_args()

rows = [json.loads(l) for l in open(a.data, encoding="utf-8") if l.strip()]


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


tj = json.load(open(a.tokenizer + "/tokenizer.json", encoding="utf-8"))
id_to_tok = {v: k for k, v in tj["model"]["vocab"].items()}
special = {t["id"] for t in tj.get("added_tokens", []) if t.get("special")}
for t in tj.get("added_tokens", []):
    id_to_tok[t["id"]] = t["content"]
byte_of = {c: b for b, c in bytes_to_unicode().items()}
eos_ids = {t["id"] for t in tj.get("added_tokens", []) if t["content"] == "<|endoftext|>"}


def decode(ids):
    out = bytearray()
    for i in ids:
        if i in special:
            continue
        out += bytes(byte_of[c] for c in id_to_tok[i])
    return out.decode("utf-8", "replace")


def ragged(g, name):
    data, off = g[name][:], g[name + "_offsets"][:]
    assert off[0] == 0 and off[-1] == len(data), f"{name}: offsets do not cover the data"
    return [data[off[i]:off[i + 1]] for i in range(len(off) - 1)]


def load(path):
    with h5py.File(path, "r") as f:
        g = f["examples"]
        d = {k: [bytes(x).decode("utf-8") for x in ragged(g, k)]
             for k in ("prompt_text", "chosen_text", "proposal_text")}
        d["proposal_ids"] = [[int(v) for v in x] for x in ragged(g, "proposal_ids")]
        for k in ("index", "sample_index", "finish_reason", "prompt_truncated", "prompt_tokens"):
            d[k] = [int(v) for v in g[k][:]]
        assert g["proposal_logprob"].dtype == np.float32, "proposal_logprob is not float32"
        assert g["finish_reason"].dtype == np.uint8, "finish_reason is not uint8"
        d["proposal_logprob"] = [float(v) for v in g["proposal_logprob"][:]]
        d["attrs"] = {k: f.attrs[k] for k in f.attrs}
        return d


fail = []
files = [load(p) for p in a.files]
d0 = files[0]
want = [(i, s) for i, r in enumerate(rows) if r["prompt"].strip() for s in range(a.n)]
got = list(zip(d0["index"], d0["sample_index"]))
if got != want:
    fail.append(f"{a.files[0]}: rows (index, sample) are not every non-empty example × {a.n}")
if len(rows) - len({i for i, _ in want}) != a.skipped:
    fail.append(f"test data has {len(rows) - len({i for i, _ in want})} empty prompts, expected {a.skipped}")
_cfg = os.path.join(str(d0["attrs"].get("proposal_model", "")), "config.json")
_mt = json.load(open(_cfg)).get("model_type") if os.path.isfile(_cfg) else None
if d0["attrs"].get("proposal_model_type") != _mt:
    fail.append(f"proposal_model_type = {d0['attrs'].get('proposal_model_type')!r}, "
                f"the proposal's config.json says {_mt!r}")
if int(d0["attrs"].get("skipped_empty_prompts", -1)) != a.skipped:
    fail.append(f"skipped_empty_prompts = {d0['attrs'].get('skipped_empty_prompts')}, expected {a.skipped}")
truncated = 0
for k in range(min(len(got), len(want))):
    i = d0["index"][k]
    where = f"{a.files[0]} row {k} (example {i}, sample {d0['sample_index'][k]})"
    if d0["prompt_text"][k] != rows[i]["prompt"] or d0["chosen_text"][k] != rows[i]["chosen"]:
        fail.append(f"{where}: prompt/chosen text differ from the source")
    ids, fin, lp = d0["proposal_ids"][k], d0["finish_reason"][k], d0["proposal_logprob"][k]
    pt = d0["prompt_tokens"][k]
    if fin not in (0, 1, 2):
        fail.append(f"{where}: finish_reason {fin}")
    if not ids or not math.isfinite(lp) or lp >= 0:
        fail.append(f"{where}: {len(ids)} ids, logprob {lp}")
    if fin == 2 and len(ids) != a.max_new_tokens and pt + len(ids) != a.max_length:
        fail.append(f"{where}: finish length with {len(ids)} new ids after {pt} prompt tokens")
    if fin == 0 and (not ids or ids[-1] not in eos_ids):
        fail.append(f"{where}: finish eos but the last id is {ids[-1] if ids else None}")
    text = decode(ids)
    if fin == 1:
        cuts = [text.find(s) for s in a.stop if s in text]
        if not cuts:
            fail.append(f"{where}: finish stop_string but no stop string in the decoded ids")
        else:
            text = text[:min(cuts)]
    if d0["proposal_text"][k] != text:
        fail.append(f"{where}: proposal_text {d0['proposal_text'][k]!r} != decoded ids {text!r}")
    if pt < 1 or pt > a.max_prompt_length or (d0["prompt_truncated"][k] and pt != a.max_prompt_length):
        fail.append(f"{where}: prompt_tokens {pt}, truncated {d0['prompt_truncated'][k]}")
    if d0["prompt_truncated"][k] and d0["sample_index"][k] == 0:
        truncated += 1
if truncated < a.min_truncated:
    fail.append(f"{truncated} truncated prompts, expected at least {a.min_truncated}")
if int(d0["attrs"].get("truncated_prompts", -1)) != truncated:
    fail.append(f"attribute truncated_prompts = {d0['attrs'].get('truncated_prompts')}, rows say {truncated}")

if a.score_with:
    # log P(proposal_ids | the prompt's last prompt_tokens ids) by another code path:
    # `ram tokenize` for the prompt ids, `ram score` for the sum over the sample.
    import os
    import subprocess
    import tempfile
    ram, model = a.score_with
    n = len(d0["index"])
    enc = subprocess.run([ram, "tokenize", "--tokenizer", a.tokenizer, "--add-special"],
                         input="".join(json.dumps({"text": t}) + "\n" for t in d0["prompt_text"]),
                         capture_output=True, text=True, check=True).stdout.splitlines()
    with tempfile.TemporaryDirectory() as td:
        src = os.path.join(td, "score.jsonl")
        with open(src, "w") as f:
            for k in range(n):
                ids = json.loads(enc[k])["ids"]
                f.write(json.dumps({"prompt_ids": ids[len(ids) - d0["prompt_tokens"][k]:],
                                    "response_ids": d0["proposal_ids"][k]}) + "\n")
        out = subprocess.run([ram, "score", "--model", model, "--input", src], capture_output=True,
                             text=True, check=True).stdout.splitlines()
    scored = [json.loads(l)["logprob"] for l in out]
    worst = max(abs(x - y) for x, y in zip(scored, d0["proposal_logprob"]))
    if len(scored) != n or worst > 2e-3:
        fail.append(f"`ram score` disagrees with proposal_logprob by up to {worst:.3g}")
    else:
        print(f"ram score agrees with proposal_logprob on {n} samples (max diff {worst:.2g})")

exact = ("index", "sample_index", "prompt_text", "chosen_text", "proposal_text", "proposal_ids",
         "finish_reason", "prompt_truncated", "prompt_tokens")
for path, d in zip(a.files[1:], files[1:]):
    for k in exact:
        if d[k] != d0[k]:
            bad = next((j for j, (x, y) in enumerate(zip(d[k], d0[k])) if x != y), min(len(d[k]), len(d0[k])))
            fail.append(f"{path} differs from {a.files[0]} in {k} (first at row {bad})")
    if len(d["proposal_logprob"]) == len(d0["proposal_logprob"]):
        diff = max((abs(x - y) for x, y in zip(d["proposal_logprob"], d0["proposal_logprob"])), default=0)
        if diff > a.logprob_tol:
            fail.append(f"{path}: proposal_logprob differs by {diff:.3g} > {a.logprob_tol}")
    if d["attrs"]["settings_hash"] != d0["attrs"]["settings_hash"]:
        fail.append(f"{path}: settings_hash differs")
if fail:
    print("FAIL:", "\n".join(fail[:12]))
    sys.exit(1)
fins = [d0["finish_reason"].count(c) for c in range(3)]
print(f"ok: {len(got)} samples, finish eos/stop/length = {fins}, {truncated} truncated, "
      f"identical in {len(files)} files (world sizes "
      f"{sorted(int(d['attrs']['world_size']) for d in files)})")
