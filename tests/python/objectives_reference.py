#!/usr/bin/env python3
"""Reference for the pairwise objectives ram_sft, dpo, ipo and ram_dpo.

Usage: objectives_reference.py CASES.json

CASES.json (written by tests/unit/test_objectives.cpp) holds:
  policy, reference   HF model directories (config.json + model.safetensors) of the tiny
                      llamas the C++ test used
  chosen, rejected    right-padded batches {ids, attention, loss_mask, prompt_len}
  grad_params         names of policy parameters whose gradient the C++ side reports
  cases               [{label, objective, config, loss_sum, count, metrics {name: sum},
                        grads {param: flat list}}]
The reference is written independently of the C++ code: the models run through
tests/python/hf_reference.py (its own llama; HF positions), one forward per batch (no
concatenation), and
    mask[b,t]  = 1 for prompt_len[b] <= t < length[b]           (length = sum of attention)
    logp[b]    = sum_t mask[b,t] * log_softmax(logits[b,t-1])[ids[b,t]]
    ram_sft:   loss_b = -pc + alpha * pr
    dpo/ipo/ram_dpo: preference_loss of eric-mitchell/direct-preference-optimization
               (logits = (pc - pr) - (rc - rr), rc = rr = 0 when reference-free;
                dpo: -logsigmoid(b*l)(1-ls) - logsigmoid(-b*l) ls;  ipo: (l - 1/(2b))^2)
with the defaults of configs/loss/<name>.yaml filled in here (not taken from C++).
Gradients of loss_sum w.r.t. the named parameters come from torch autograd.
Exits 0 when everything agrees, 1 with one line per mismatch otherwise (and prints the
largest differences seen, for the test log).
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_reference  # noqa: E402

DEFAULTS = {
    "ram_sft": {"alpha": 1e-4},
    "dpo": {"beta": 0.5, "label_smoothing": 0.0, "reference_free": False},
    "ipo": {"beta": 0.1, "reference_free": False},
    "ram_dpo": {"beta": 1.0, "label_smoothing": 0.0},
}
PAIR_METRICS = {"logps/chosen", "logps/rejected", "loss", "tokens", "rewards/margins",
                "rewards/accuracies"}
PREF_METRICS = PAIR_METRICS | {"rewards/chosen", "rewards/rejected"}

# Float32 models on both sides, different kernels: values agree to ~1e-6 relative (measured
# worst: 0.1 of this tolerance), gradients to ~2e-6 of their largest entry.
VALUE_RTOL, VALUE_ATOL = 2e-5, 2e-5
GRAD_RTOL, GRAD_ATOL_FRACTION = 1e-4, 1e-4  # atol = fraction * max |reference grad|


def close(a, b, rtol=VALUE_RTOL, atol=VALUE_ATOL):
    return abs(a - b) <= atol + rtol * abs(b)


def batch_mask(batch):
    ids = torch.tensor(batch["ids"], dtype=torch.long)
    attention = torch.tensor(batch["attention"], dtype=torch.long)
    B, T = ids.shape
    lengths = attention.sum(1).tolist()
    mask = torch.zeros(B, T, dtype=torch.float64)
    for b in range(B):
        mask[b, batch["prompt_len"][b]:lengths[b]] = 1.0
    return ids, attention, mask


def logps(model, batch):
    """[B] float64 sum of response-token log-probs, differentiable w.r.t. the model."""
    ids, attention, mask = batch_mask(batch)
    position_ids = (attention.cumsum(-1) - 1).masked_fill(attention == 0, 1)
    logits = model(ids, attention, position_ids).float()  # [B,T,V]
    lsm = torch.log_softmax(logits[:, :-1], dim=-1)      # predicts tokens 1..T-1
    tok = lsm.gather(2, ids[:, 1:].unsqueeze(-1)).squeeze(-1).double()  # [B,T-1]
    return (tok * mask[:, 1:]).sum(1)


def resolve(objective, config):
    if objective not in DEFAULTS:
        raise SystemExit(f"objectives_reference: unknown objective {objective!r}")
    cfg = dict(DEFAULTS[objective])
    for k, v in config.items():
        if k not in cfg:
            raise SystemExit(f"objectives_reference: {objective} has no key {k!r}")
        cfg[k] = v
    return cfg


def expected(objective, cfg, pc, pr, rc, rr, tokens):
    """(loss_sum tensor with graph, {metric: float})."""
    if objective == "ram_sft":
        losses = -pc + cfg["alpha"] * pr
        c, j = pc.detach(), pr.detach()
        metrics = {"rewards/margins": (c - j).sum().item(),
                   "rewards/accuracies": (c > j).double().sum().item()}
    else:
        beta = cfg["beta"]
        if objective == "ram_dpo" or cfg.get("reference_free", False):
            rc = torch.zeros_like(pc)
            rr = torch.zeros_like(pr)
        logits = (pc - pr) - (rc - rr)
        if objective == "ipo":
            losses = (logits - 1 / (2 * beta)) ** 2
        else:
            ls = cfg["label_smoothing"]
            losses = -F.logsigmoid(beta * logits) * (1 - ls) - F.logsigmoid(-beta * logits) * ls
        chosen = beta * (pc - rc).detach()
        rejected = beta * (pr - rr).detach()
        metrics = {"rewards/chosen": chosen.sum().item(),
                   "rewards/rejected": rejected.sum().item(),
                   "rewards/margins": (chosen - rejected).sum().item(),
                   "rewards/accuracies": (chosen > rejected).double().sum().item()}
    loss_sum = losses.sum()
    metrics.update({"logps/chosen": pc.detach().sum().item(),
                    "logps/rejected": pr.detach().sum().item(),
                    "loss": loss_sum.item(), "tokens": tokens})
    return loss_sum, metrics


def main(path):
    with open(path) as f:
        doc = json.load(f)
    torch.set_num_threads(1)
    policy = hf_reference.load_model(doc["policy"], "f32")
    reference = hf_reference.load_model(doc["reference"], "f32")
    failures = []
    for name in ("chosen", "rejected"):
        _, _, mask = batch_mask(doc[name])
        given = torch.tensor(doc[name]["loss_mask"], dtype=torch.float64)
        if not torch.equal(mask, given):
            failures.append(f"{name}.loss_mask differs from prompt_len/attention")
    params = dict(policy.named_parameters())
    for p in policy.parameters():
        p.requires_grad_(False)
    wanted = [params[n] for n in doc["grad_params"]]
    for p in wanted:
        p.requires_grad_(True)

    pc = logps(policy, doc["chosen"])
    pr = logps(policy, doc["rejected"])
    with torch.no_grad():
        rc = logps(reference, doc["chosen"])
        rr = logps(reference, doc["rejected"])
    tokens = float(batch_mask(doc["chosen"])[2][:, 1:].sum() + batch_mask(doc["rejected"])[2][:, 1:].sum())

    worst_value, worst_grad = 0.0, 0.0
    for case in doc["cases"]:
        label, objective = case["label"], case["objective"]
        cfg = resolve(objective, case.get("config", {}))
        loss_sum, metrics = expected(objective, cfg, pc, pr, rc, rr, tokens)
        want_names = PAIR_METRICS if objective == "ram_sft" else PREF_METRICS
        if set(case["metrics"]) != want_names:
            failures.append(f"{label}: metric names {sorted(case['metrics'])}, want {sorted(want_names)}")
        if case["count"] != len(doc["chosen"]["ids"]):
            failures.append(f"{label}: count {case['count']}, want {len(doc['chosen']['ids'])}")
        checks = [("loss_sum", case["loss_sum"], loss_sum.item())]
        checks += [(k, case["metrics"][k], v) for k, v in metrics.items() if k in case["metrics"]]
        for key, got, want in checks:
            exact = key in ("tokens", "rewards/accuracies")
            ok = got == want if exact else close(got, want)
            if not exact:
                worst_value = max(worst_value, abs(got - want) / (VALUE_ATOL + VALUE_RTOL * abs(want)))
            if not ok:
                failures.append(f"{label}: {key}: C++ {got!r}, reference {want!r}")
        print(f"objectives_reference: {label}: loss_sum {loss_sum.item():.6f}, "
              f"margins {metrics['rewards/margins']:.4f}, accuracies {metrics['rewards/accuracies']:.0f}")
        grads = torch.autograd.grad(loss_sum, wanted, retain_graph=True)
        for name, g in zip(doc["grad_params"], grads):
            if name not in case.get("grads", {}):
                failures.append(f"{label}: no gradient for {name}")
                continue
            got = torch.tensor(case["grads"][name], dtype=torch.float64).reshape(g.shape)
            g = g.double()
            atol = GRAD_ATOL_FRACTION * g.abs().max().item()
            err = ((got - g).abs() - GRAD_RTOL * g.abs()).max().item()
            worst_grad = max(worst_grad, (got - g).abs().max().item() / max(g.abs().max().item(), 1e-30))
            if err > atol:
                failures.append(f"{label}: grad {name}: max excess {err:.3g} over atol {atol:.3g}")
    for line in failures:
        print("objectives_reference: mismatch:", line)
    print(f"objectives_reference: {len(doc['cases'])} cases; worst value error "
          f"{worst_value:.3f} of tolerance; worst gradient error {worst_grad:.2e} of max |grad|")
    if not failures:
        print("objectives_reference: ok")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: objectives_reference.py CASES.json", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
