#!/usr/bin/python3
"""Eager-PyTorch training baseline for bench/train.cpp: what an engineer writes without ram.

An HF-style Llama (transformers' modeling_llama.py with eager attention — torch 1.13 has no
scaled_dot_product_attention —, nn.Linear / nn.Embedding, HF parameter layout; the
building blocks are bench/python/sample_baseline.py's) trained the way the original DPO
repository's trainer does it: full logits [N, T, V], log_softmax in float32, gather of the
label tokens, masked sum over the response tokens; torch.optim.RMSprop (alpha 0.99, eps
1e-8: torch's defaults, as ram's), LambdaLR linear warmup, clip_grad_norm_ (max 10),
zero_grad(set_to_none=True). f32, torch.set_num_threads(--threads).

Batch: B examples of --prompt-len prompt tokens + --response-len response tokens (fixed
lengths, no padding: what the C++ side feeds ram through a byte-level tokenizer).
  loss sft:     −Σ_b log p(chosen_b | prompt_b) / B                 N = B rows
  loss ram_sft: Σ_b [−log p(chosen_b) + α · log p(rejected_b)] / B  N = 2B rows, chosen and
                rejected through one forward (the original's concatenated_forward)
Step 1 is the warm-up (allocator, first-touch pages, OpenBLAS buffers) and is not timed
into tokens_per_s; the figure is Σ tokens / Σ seconds over steps 2..--steps.

Prints one JSON line:
  {"bench":"train_baseline","loss":..,"batch":B,"rows":N,"seq_len":T,"steps":..,
   "timed_steps":..,"tokens_per_step":..,"step_seconds":[..],"tokens_per_s":..,
   "phase_seconds":{"forward":..,"backward":..,"update":..} (means over the timed steps),
   "peak_rss_mb":..,"threads":..,"params":..,"torch":..,"env":{..}}
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sample_baseline import MLP, RMSNorm, RotaryEmbedding, apply_rotary_pos_emb, causal_mask_4d  # noqa: E402


class Attention(nn.Module):
    """modeling_llama's LlamaAttention, eager path, no KV cache (training)."""

    def __init__(self, hidden, heads):
        super().__init__()
        self.head_dim = hidden // heads
        self.scaling = self.head_dim ** -0.5
        self.q_proj = nn.Linear(hidden, hidden, bias=False)
        self.k_proj = nn.Linear(hidden, hidden, bias=False)
        self.v_proj = nn.Linear(hidden, hidden, bias=False)
        self.o_proj = nn.Linear(hidden, hidden, bias=False)

    def forward(self, h, position_embeddings, mask):
        input_shape = h.shape[:-1]
        shape = (*input_shape, -1, self.head_dim)
        q = self.q_proj(h).view(shape).transpose(1, 2)
        k = self.k_proj(h).view(shape).transpose(1, 2)
        v = self.v_proj(h).view(shape).transpose(1, 2)
        cos, sin = position_embeddings
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        w = torch.matmul(q, k.transpose(2, 3)) * self.scaling
        w = w + mask
        w = F.softmax(w, dim=-1, dtype=torch.float32).to(q.dtype)
        out = torch.matmul(w, v).transpose(1, 2).contiguous()
        return self.o_proj(out.reshape(*input_shape, -1).contiguous())


class DecoderLayer(nn.Module):
    def __init__(self, hidden, heads, inter):
        super().__init__()
        self.self_attn = Attention(hidden, heads)
        self.mlp = MLP(hidden, inter)
        self.input_layernorm = RMSNorm(hidden)
        self.post_attention_layernorm = RMSNorm(hidden)

    def forward(self, h, position_embeddings, mask):
        h = h + self.self_attn(self.input_layernorm(h), position_embeddings, mask)
        return h + self.mlp(self.post_attention_layernorm(h))


class LlamaForCausalLM(nn.Module):
    def __init__(self, vocab, hidden, layers, heads, inter, rope_theta=10000.0):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, hidden)
        self.layers = nn.ModuleList([DecoderLayer(hidden, heads, inter) for _ in range(layers)])
        self.norm = RMSNorm(hidden)
        self.rotary_emb = RotaryEmbedding(hidden // heads, rope_theta)
        self.lm_head = nn.Linear(hidden, vocab, bias=False)

    def forward(self, input_ids, attention_mask, position_ids):
        h = self.embed_tokens(input_ids)
        mask = causal_mask_4d(attention_mask, input_ids.shape[1], h.dtype)
        pe = self.rotary_emb(h, position_ids)
        for layer in self.layers:
            h = layer(h, pe, mask)
        return self.lm_head(self.norm(h))  # [N, T, V]: every position (training)


def sequence_logprob(logits, labels, loss_mask):
    """Σ_t loss_mask[:, t] · log p(labels[:, t]) over t ≥ 1 (the DPO repo's _get_batch_logps)."""
    lp = F.log_softmax(logits[:, :-1, :].float(), dim=-1)
    tok = torch.gather(lp, 2, labels[:, 1:].unsqueeze(-1)).squeeze(-1)
    return (tok * loss_mask[:, 1:]).sum(-1)


def make_batch(args):
    """Token ids of fixed lengths (values do not change the speed), all real tokens."""
    rows = args.batch * (2 if args.loss == "ram_sft" else 1)
    T = args.prompt_len + args.response_len
    g = torch.Generator().manual_seed(args.seed + 1)
    ids = torch.randint(0, args.vocab, (rows, T), generator=g)
    attention = torch.ones(rows, T, dtype=torch.long)
    loss_mask = torch.zeros(rows, T)
    loss_mask[:, args.prompt_len:] = 1.0
    positions = (attention.cumsum(1) - 1).clamp_min(0)
    return ids, attention, positions, loss_mask


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loss", choices=["sft", "ram_sft"], default="sft")
    ap.add_argument("--alpha", type=float, default=1e-4)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--prompt-len", type=int, default=128)
    ap.add_argument("--response-len", type=int, default=128)
    ap.add_argument("--steps", type=int, default=3, help="optimizer steps, the first is the warm-up")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-6)
    ap.add_argument("--warmup-steps", type=int, default=2)
    ap.add_argument("--max-grad-norm", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--hidden", type=int, default=768)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--intermediate", type=int, default=2048)
    ap.add_argument("--profile", action="store_true",
                    help="then one more (untimed) step under the autograd profiler: its top ops on stderr")
    args = ap.parse_args()
    if args.steps < 2:
        ap.error("--steps must be ≥ 2 (the first step is the warm-up)")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = LlamaForCausalLM(args.vocab, args.hidden, args.layers, args.heads, args.intermediate)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" not in name:
                p.normal_(0.0, 0.02)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.RMSprop(params, lr=args.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / (args.warmup_steps + 1)))
    ids, attention, positions, loss_mask = make_batch(args)
    B = args.batch

    phases = {"forward": [], "backward": [], "update": []}

    def step():
        t0 = time.perf_counter()
        logits = model(ids, attention, positions)
        logp = sequence_logprob(logits, ids, loss_mask)
        if args.loss == "sft":
            loss = -logp.sum() / B
        else:
            loss = (-logp[:B] + args.alpha * logp[B:]).sum() / B
        value = loss.item()
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(params, args.max_grad_norm)
        opt.step()
        sched.step()
        t3 = time.perf_counter()
        phases["forward"].append(t1 - t0)
        phases["backward"].append(t2 - t1)
        phases["update"].append(t3 - t2)
        return value

    seconds = []
    for s in range(args.steps):
        t0 = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - t0)
    if args.profile:  # one more step, not in the figures
        with torch.autograd.profiler.profile() as prof:
            step()
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25), file=sys.stderr)
    tokens_per_step = int(attention.sum())
    timed = seconds[1:]
    print(json.dumps({"bench": "train_baseline", "loss": args.loss, "batch": B, "rows": ids.shape[0],
                      "seq_len": ids.shape[1], "steps": args.steps, "timed_steps": len(timed),
                      "tokens_per_step": tokens_per_step, "step_seconds": seconds,
                      "tokens_per_s": tokens_per_step * len(timed) / sum(timed),
                      "phase_seconds": {k: sum(v[1:args.steps]) / len(timed) for k, v in phases.items()},
                      "peak_rss_mb": rss_mb(), "threads": torch.get_num_threads(),
                      "params": sum(p.numel() for p in params), "torch": torch.__version__,
                      "optimizer": "torch.optim.RMSprop", "attention": "eager (matmul + softmax)",
                      "env": {k: os.environ.get(k) for k in
                              ("OPENBLAS_CORETYPE", "OMP_WAIT_POLICY", "OMP_NUM_THREADS",
                               "OPENBLAS_NUM_THREADS")}}), flush=True)


if __name__ == "__main__":
    main()
