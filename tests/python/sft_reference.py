#!/usr/bin/env python3
"""Reference for the sft objective: recomputes the loss from the logits with torch.

Usage: sft_reference.py CASE.json

CASE.json (written by tests/unit/test_sft.cpp) holds the batch (ids, attention, loss_mask,
prompt_len), the logits the model produced ({"shape": [...], "data": [flat]}), and what
the C++ objective returned (loss_sum, metric_loss, logps_chosen, tokens, count).
The reference, written independently of the C++ code:
    mask[b,t]   = 1 for prompt_len[b] <= t < length[b]   (length = sum of attention)
    logp[b]     = sum_t mask[b,t] * log_softmax(logits[b,t-1])[ids[b,t]]
    loss_sum    = -sum_b logp[b]
computed in float64. Exits 0 when everything agrees (rtol 1e-5), 1 with one line per
mismatch otherwise.
"""
import json
import sys

import torch


def tensor(entry, dtype):
    return torch.tensor(entry["data"], dtype=dtype).reshape(entry["shape"])


def close(a, b, rtol=1e-5, atol=1e-6):
    return abs(a - b) <= atol + rtol * abs(b)


def main(path):
    with open(path) as f:
        case = json.load(f)
    ids = tensor(case["ids"], torch.int64)
    attention = tensor(case["attention"], torch.int64)
    given_mask = tensor(case["loss_mask"], torch.float64)
    logits = tensor(case["logits"], torch.float64)
    B, T = ids.shape

    lengths = attention.sum(1).tolist()
    mask = torch.zeros(B, T, dtype=torch.float64)
    for b in range(B):
        mask[b, case["prompt_len"][b]:lengths[b]] = 1.0

    logp = torch.zeros(B, dtype=torch.float64)
    for b in range(B):
        lsm = torch.log_softmax(logits[b], dim=-1)  # [T,V]
        for t in range(1, T):
            if mask[b, t] != 0:
                logp[b] += lsm[t - 1, ids[b, t]]
    ref = {
        "loss_sum": -logp.sum().item(),
        "metric_loss": -logp.sum().item(),
        "logps_chosen": logp.sum().item(),
        "tokens": mask[:, 1:].sum().item(),
        "count": B,
    }

    failures = []
    if not torch.equal(mask, given_mask):
        failures.append("loss_mask: the test's mask differs from prompt_len/attention")
    for key, want in ref.items():
        got = case[key]
        if not close(got, want):
            failures.append(f"{key}: C++ {got!r}, reference {want!r}")
    for line in failures:
        print("sft_reference: mismatch:", line)
    if not failures:
        print(f"sft_reference: ok (loss_sum {ref['loss_sum']:.6f}, B={B}, T={T})")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: sft_reference.py CASE.json", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
