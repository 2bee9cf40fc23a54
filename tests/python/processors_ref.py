#!/usr/bin/env python3
"""Reference for the logits processors of framework/src/generate/processors.cpp.

Usage: processors_ref.py IN.json OUT.json

IN.json (written by tests/unit/test_engine.cpp):
    {"cases": [{"logits": [[float] * V] * B, "input_ids": [[int, ...]] * B,
                "order": ["repetition_penalty", "temperature", "top_k", "top_p"],
                "repetition_penalty": p, "temperature": t, "top_k": k, "top_p": q}]}
OUT.json: {"results": [[[float or null] * V] * B]}  (null = -inf)

The processors are HuggingFace transformers' (generation/logits_process.py, 4.x),
written out here as HF writes them, with torch (float32), independently of the C++:
RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper, TopKLogitsWarper,
TopPLogitsWarper (filter_value -inf, min_tokens_to_keep 1). A stage at its neutral value
is skipped, as the C++ chain and HF's generate skip it. input_ids rows of different
lengths are padded with the row's own first id (gather/scatter of a repeated id is a
no-op), which HF's [B, L] input_ids tensor needs.
"""
import json
import math
import sys

import torch


class RepetitionPenaltyLogitsProcessor:
    def __init__(self, penalty):
        self.penalty = penalty

    def __call__(self, input_ids, scores):
        score = torch.gather(scores, 1, input_ids)
        score = torch.where(score < 0, score * self.penalty, score / self.penalty)
        scores.scatter_(1, input_ids, score)
        return scores


class TemperatureLogitsWarper:
    def __init__(self, temperature):
        self.temperature = temperature

    def __call__(self, input_ids, scores):
        return scores / self.temperature


class TopKLogitsWarper:
    def __init__(self, top_k, filter_value=-float("Inf"), min_tokens_to_keep=1):
        self.top_k = max(top_k, min_tokens_to_keep)
        self.filter_value = filter_value

    def __call__(self, input_ids, scores):
        top_k = min(self.top_k, scores.size(-1))
        indices_to_remove = scores < torch.topk(scores, top_k)[0][..., -1, None]
        return scores.masked_fill(indices_to_remove, self.filter_value)


class TopPLogitsWarper:
    def __init__(self, top_p, filter_value=-float("Inf"), min_tokens_to_keep=1):
        self.top_p = float(top_p)
        self.filter_value = filter_value
        self.min_tokens_to_keep = min_tokens_to_keep

    def __call__(self, input_ids, scores):
        sorted_logits, sorted_indices = torch.sort(scores, descending=False)
        cumulative_probs = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
        sorted_indices_to_remove = cumulative_probs <= (1 - self.top_p)
        sorted_indices_to_remove[..., -self.min_tokens_to_keep:] = 0
        indices_to_remove = sorted_indices_to_remove.scatter(1, sorted_indices, sorted_indices_to_remove)
        return scores.masked_fill(indices_to_remove, self.filter_value)


def chain(case):
    stages = []
    for name in case["order"]:
        if name == "repetition_penalty" and case["repetition_penalty"] != 1.0:
            stages.append(RepetitionPenaltyLogitsProcessor(case["repetition_penalty"]))
        elif name == "temperature" and case["temperature"] != 1.0:
            stages.append(TemperatureLogitsWarper(case["temperature"]))
        elif name == "top_k" and case["top_k"] > 0:
            stages.append(TopKLogitsWarper(case["top_k"]))
        elif name == "top_p" and case["top_p"] < 1.0:
            stages.append(TopPLogitsWarper(case["top_p"]))
    return stages


def main(inp, out):
    with open(inp) as f:
        cases = json.load(f)["cases"]
    results = []
    for case in cases:
        scores = torch.tensor(case["logits"], dtype=torch.float32)
        rows = case["input_ids"]
        width = max(len(r) for r in rows)
        input_ids = torch.tensor([r + [r[0]] * (width - len(r)) for r in rows], dtype=torch.long)
        for stage in chain(case):
            scores = stage(input_ids, scores)
        results.append([[None if math.isinf(v) and v < 0 else v for v in row] for row in scores.tolist()])
    with open(out, "w") as f:
        json.dump({"results": results}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
