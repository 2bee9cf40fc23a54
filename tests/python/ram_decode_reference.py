#!/usr/bin/python3
"""Independent reference of RAM's greedy decoding (ram-method.md "Decoding", issue 6), for
`ram generate --greedy --proposal ... --sample-mode par|par_kl|mds`.

Both models come from tests/python/hf_reference.py (a re-implementation of transformers'
modeling code); every step runs each model over the whole sequence (no cache, no padding),
cuts both logits to the tokenizer's length V, and computes the warped logits from the
formulas, then the aligner-side chain in FastChat's order and the arg-max:
  par     q on the proposal's nucleus, -inf elsewhere; EOS when argmax(m) is EOS
  par_kl  KL(softmax(m) || softmax(q)) <= div_threshold ? par's branch : m
          (EOS priority only with --eos-priority)
  mds     log(normalise(softmax(m / Tb) * softmax(q / Te)) + 1e-10)
  nucleus: m / Tb, top-k (Tb, base_top_k > 0), then top-p: sorted descending, keep a token
           while the probability mass before it is < base_top_p
  chain:   repetition penalty over prompt + generated ids (HF: < 0 multiplied, else
           divided), top-p (HF), top-k; temperature is irrelevant to an arg-max.
Nothing here imports ram; it does not reuse ram's code paths (sorting, masks, the KL sum in
float64 here).

CLI:
  ram_decode_reference.py greedy --aligner DIR --proposal DIR --vocab V --input IN.jsonl
      --mode M --max-new-tokens N [--eos ID ...] [--base-temperature T] [--base-top-p P]
      [--base-top-k K] [--div-threshold D] [--expert-temperature T] [--eos-priority]
      [--repetition-penalty R] [--top-p P] [--top-k K]
      {"prompt_ids": [...]} per line → {"ids": [...], "restricted": steps in par's branch}
  ram_decode_reference.py first-kl --aligner DIR --proposal DIR --vocab V --input IN.jsonl
      → the median KL at each prompt's first step (to pick a div_threshold that splits)
"""
import argparse
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_reference  # noqa: E402


def last_logits(model, ids, vocab):
    return hf_reference.run_logits(model, [ids])[0, -1, :vocab].double()


def kl(m, q):
    lm, lq = torch.log_softmax(m, -1), torch.log_softmax(q, -1)
    return float((lm.exp() * (lm - lq)).sum())


def nucleus(m, a):
    x = m / a.base_temperature
    order = torch.argsort(x, descending=True).tolist()
    if a.base_top_k > 0:
        order = order[: a.base_top_k]
    p = torch.softmax(x[order], -1).tolist()
    keep = torch.zeros(len(m), dtype=torch.bool)
    before = 0.0
    for j, i in enumerate(order):
        if j > 0 and before >= a.base_top_p:
            break
        keep[i] = True
        before += p[j]
    return keep


def warp(q, m, a, eos):
    restricted = 0
    if a.mode == "par" or (a.mode == "par_kl" and kl(m, q) <= a.div_threshold):
        out = torch.where(nucleus(m, a), q, torch.tensor(-math.inf, dtype=q.dtype))
        restricted = 1
    elif a.mode == "par_kl":
        out = m.clone()
    else:
        prod = torch.softmax(m / a.base_temperature, -1) * torch.softmax(q / a.expert_temperature, -1)
        out = torch.log(prod / prod.sum() + 1e-10)
    top = int(torch.argmax(m))
    if (a.mode == "par" or a.eos_priority) and top in eos:
        out = torch.full_like(out, -math.inf)
        out[top] = 0.0
    return out, restricted


def chain(w, seen, a):
    w = w.clone()
    if a.repetition_penalty != 1.0:
        for i in set(seen):
            w[i] = w[i] * a.repetition_penalty if w[i] < 0 else w[i] / a.repetition_penalty
    if a.top_p < 1.0:
        s, idx = torch.sort(w)  # ascending, HF
        cum = torch.softmax(s, -1).cumsum(-1)
        remove = cum <= 1 - a.top_p
        remove[-1] = False
        w[idx[remove]] = -math.inf
    if a.top_k > 0:
        kth = torch.topk(w, min(a.top_k, len(w))).values[-1]
        w[w < kth] = -math.inf
    return w


def cmd_greedy(a):
    al = hf_reference.load_model(a.aligner, "f32")
    pr = hf_reference.load_model(a.proposal, "f32")
    with open(a.input) as f:
        for line in f:
            if not line.strip():
                continue
            ids = list(json.loads(line)["prompt_ids"])
            seen, new, restricted = list(ids), [], 0
            for _ in range(a.max_new_tokens):
                q, m = last_logits(al, ids, a.vocab), last_logits(pr, ids, a.vocab)
                w, r = warp(q, m, a, a.eos)
                restricted += r
                nxt = int(torch.argmax(chain(w, seen, a)))
                new.append(nxt)
                ids.append(nxt)
                seen.append(nxt)
                if nxt in a.eos:
                    break
            print(json.dumps({"ids": new, "restricted": restricted}), flush=True)


def cmd_first_kl(a):
    al = hf_reference.load_model(a.aligner, "f32")
    pr = hf_reference.load_model(a.proposal, "f32")
    kls = []
    with open(a.input) as f:
        for line in f:
            if line.strip():
                ids = json.loads(line)["prompt_ids"]
                kls.append(kl(last_logits(pr, ids, a.vocab), last_logits(al, ids, a.vocab)))
    kls.sort()
    print(kls[len(kls) // 2])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("greedy", "first-kl"):
        s = sub.add_parser(name)
        s.add_argument("--aligner", required=True)
        s.add_argument("--proposal", required=True)
        s.add_argument("--vocab", type=int, required=True)
        s.add_argument("--input", required=True)
        if name == "greedy":
            s.add_argument("--mode", required=True, choices=["par", "par_kl", "mds"])
            s.add_argument("--max-new-tokens", type=int, required=True)
            s.add_argument("--eos", type=int, nargs="*", default=[])
            s.add_argument("--base-temperature", type=float, default=1.0)
            s.add_argument("--base-top-p", type=float, default=0.95)
            s.add_argument("--base-top-k", type=int, default=0)
            s.add_argument("--div-threshold", type=float, default=0.1)
            s.add_argument("--expert-temperature", type=float, default=1.0)
            s.add_argument("--eos-priority", action="store_true")
            s.add_argument("--repetition-penalty", type=float, default=1.0)
            s.add_argument("--top-p", type=float, default=1.0)
            s.add_argument("--top-k", type=int, default=0)
    a = ap.parse_args()
    torch.set_grad_enabled(False)
    cmd_greedy(a) if a.cmd == "greedy" else cmd_first_kl(a)


if __name__ == "__main__":
    main()
