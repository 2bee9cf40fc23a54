#!/usr/bin/env python3
"""Reference for train/data.cpp: truncation, batches and the data order, recomputed here.

Usage: train_data_reference.py CASES.json

CASES.json (written by tests/unit/test_train_data.cpp) holds what the C++ code was given
and what it returned:
  "tokenize": [{"prompt", "chosen", "rejected" (null when not tokenized): the token ids
      of each text encoded on its own without special tokens; "eos", "bos"; "max_length",
      "max_prompt_length", "truncation_mode", "add_bos"; "got": {"prompt", "chosen",
      "rejected", "prompt_truncated", "response_truncated"}}]
  "batch": [{"examples": [{"prompt", "response"}], "pad_id",
      "got": {"ids", "attention", "loss_mask"}}]
  "split": [{"n", "n_eval", "seed", "got": {"train", "eval"}}]
  "order": [{"train", "seed", "epoch", "got"}]
  "corrupt": one more tokenize case whose "got" is deliberately wrong; the reference must
      report it (otherwise the check could not fail), and it is not counted as a mismatch.

Truncation follows eric-mitchell/direct-preference-optimization, preference_datasets.py
tokenize_batch_element, written here from that code: EOS appended to each response; in SFT
mode (no rejected) the original passes the chosen response as the rejected one, so
`longer` is len(chosen). The framework's one extension, add_bos, puts BOS first in the
prompt and keeps it first under keep_end. Batches follow the original's collate (right
padding; labels -100 on prompt and padding, so loss_mask = labels != -100). The data order
is the documented Fisher-Yates over SplitMix64 (see train/data.cpp). Exits 0 when all
agree, 1 with one line per mismatch.
"""
import json
import sys

M64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
SPLIT_DOMAIN = 0x73706C6974  # "split"
EPOCH_DOMAIN = 0x65706F6368  # "epoch"


# ------------------------------------------------------------------ truncation
def tokenize_batch_element(prompt_ids, chosen_ids, rejected_ids, truncation_mode, eos, bos,
                           add_bos, max_length, max_prompt_length):
    """The original's rules on ready-made token ids (rejected_ids None: SFT mode)."""
    prompt_tokens = {"input_ids": list(prompt_ids)}
    if add_bos:
        prompt_tokens["input_ids"] = [bos] + prompt_tokens["input_ids"]
    chosen_tokens = {"input_ids": list(chosen_ids) + [eos]}
    sft = rejected_ids is None
    rejected_tokens = {"input_ids": (list(chosen_ids) if sft else list(rejected_ids)) + [eos]}

    longer_response_length = max(len(chosen_tokens["input_ids"]),
                                 len(rejected_tokens["input_ids"]))
    prompt_before = len(prompt_tokens["input_ids"])
    if len(prompt_tokens["input_ids"]) + longer_response_length > max_length:
        if truncation_mode == "keep_start":
            prompt_tokens = {k: v[:max_prompt_length] for k, v in prompt_tokens.items()}
        elif truncation_mode == "keep_end":
            if add_bos:  # BOS, then the last max_prompt_length - 1 tokens
                prompt_tokens = {k: v[:1] + (v[1:][-(max_prompt_length - 1):]
                                             if max_prompt_length > 1 else [])
                                 for k, v in prompt_tokens.items()}
            else:
                prompt_tokens = {k: v[-max_prompt_length:] for k, v in prompt_tokens.items()}
        else:
            raise ValueError(f"Unknown truncation mode: {truncation_mode}")

    chosen_before = len(chosen_tokens["input_ids"])
    rejected_before = len(rejected_tokens["input_ids"])
    if len(prompt_tokens["input_ids"]) + longer_response_length > max_length:
        chosen_tokens = {k: v[:max_length - max_prompt_length] for k, v in chosen_tokens.items()}
        rejected_tokens = {k: v[:max_length - max_prompt_length] for k, v in rejected_tokens.items()}

    response_truncated = len(chosen_tokens["input_ids"]) < chosen_before
    if not sft:
        response_truncated |= len(rejected_tokens["input_ids"]) < rejected_before
    return {
        "prompt": prompt_tokens["input_ids"],
        "chosen": chosen_tokens["input_ids"],
        "rejected": [] if sft else rejected_tokens["input_ids"],
        "prompt_truncated": len(prompt_tokens["input_ids"]) < prompt_before,
        "response_truncated": response_truncated,
    }


def tokenize_case(c):
    return tokenize_batch_element(c["prompt"], c["chosen"], c["rejected"], c["truncation_mode"],
                                  c["eos"], c["bos"], c["add_bos"], c["max_length"],
                                  c["max_prompt_length"])


# ------------------------------------------------------------------ batches
def collate(examples, pad_id):
    seqs = [e["prompt"] + e["response"] for e in examples]
    labels = [[-100] * len(e["prompt"]) + e["response"] for e in examples]
    T = max(len(s) for s in seqs)
    ids = [s + [pad_id] * (T - len(s)) for s in seqs]
    attention = [[1] * len(s) + [0] * (T - len(s)) for s in seqs]
    labels = [l + [-100] * (T - len(l)) for l in labels]
    loss_mask = [[0.0 if x == -100 else 1.0 for x in l] for l in labels]
    return {"ids": ids, "attention": attention, "loss_mask": loss_mask}


# ------------------------------------------------------------------ data order
def splitmix64(z):
    z = (z + GAMMA) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def draw_bits(seed, a, b, c):
    h = splitmix64(seed & M64)
    for w in (a, b, c):
        h = splitmix64(h ^ (w & M64))
    return h


class Stream:
    def __init__(self, key):
        self.state = key

    def next(self):
        out = splitmix64(self.state)
        self.state = (self.state + GAMMA) & M64
        return out

    def below(self, bound):  # Lemire's unbiased bounded draw
        m = self.next() * bound
        low = m & M64
        if low < bound:
            threshold = ((1 << 64) - bound) % bound
            while low < threshold:
                m = self.next() * bound
                low = m & M64
        return m >> 64


def shuffle(v, key):
    v = list(v)
    s = Stream(key)
    for k in range(len(v) - 1, 0, -1):
        j = s.below(k + 1)
        v[k], v[j] = v[j], v[k]
    return v


def split(n, n_eval, seed):
    perm = shuffle(range(n), draw_bits(seed, SPLIT_DOMAIN, 0, 0))
    return {"train": sorted(perm[n_eval:]), "eval": sorted(perm[:n_eval])}


def epoch_order(train, seed, epoch):
    return shuffle(train, draw_bits(seed, EPOCH_DOMAIN, epoch, 0))


# ------------------------------------------------------------------ main
def main(path):
    with open(path) as f:
        cases = json.load(f)
    failures = []

    def check(what, got, want):
        if got != want:
            failures.append(f"{what}: C++ {json.dumps(got)[:300]}, reference {json.dumps(want)[:300]}")

    for i, c in enumerate(cases["tokenize"]):
        want = tokenize_case(c)
        for key in want:
            check(f"tokenize[{i}].{key} (lengths p{len(c['prompt'])} "
                  f"c{len(c['chosen'])} r{None if c['rejected'] is None else len(c['rejected'])}, "
                  f"max {c['max_length']}/{c['max_prompt_length']} {c['truncation_mode']}"
                  f"{' bos' if c['add_bos'] else ''})", c["got"][key], want[key])
    for i, c in enumerate(cases["batch"]):
        want = collate(c["examples"], c["pad_id"])
        for key in want:
            check(f"batch[{i}].{key}", c["got"][key], want[key])
    for i, c in enumerate(cases["split"]):
        want = split(c["n"], c["n_eval"], c["seed"])
        for key in want:
            check(f"split[{i}] (n {c['n']}, n_eval {c['n_eval']}, seed {c['seed']}).{key}",
                  c["got"][key], want[key])
    for i, c in enumerate(cases["order"]):
        check(f"order[{i}] (seed {c['seed']}, epoch {c['epoch']})", c["got"],
              epoch_order(c["train"], c["seed"], c["epoch"]))

    corrupt = cases["corrupt"]
    if tokenize_case(corrupt) == {k: corrupt["got"][k] for k in tokenize_case(corrupt)}:
        failures.append("corrupt: the deliberately wrong case was accepted")

    for line in failures:
        print("train_data_reference: mismatch:", line)
    if not failures:
        print(f"train_data_reference: ok ({len(cases['tokenize'])} tokenize, "
              f"{len(cases['batch'])} batch, {len(cases['split'])} split, "
              f"{len(cases['order'])} order cases)")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: train_data_reference.py CASES.json", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
