#!/usr/bin/python3
"""Eager-PyTorch sampling baseline for bench/sample.cpp: what an engineer writes without ram.

An HF-style Llama (transformers' modeling_llama.py, eager attention, nn.Linear / nn.Embedding,
HF parameter layout) decoding through HF's *legacy dynamic KV cache*: each layer's keys and
values grow by torch.cat along the sequence axis at every step (DynamicCache.update), the
4D additive causal mask is rebuilt from the 2D attention mask at every step, rotary cos/sin
are computed per forward from position_ids, and only the last position goes through lm_head
(generate's logits_to_keep=1). Static batching as HF's generate(): prompts are left-padded
into batches of B and a batch runs until its longest member finishes.

Logits processors with HF's semantics and order: RepetitionPenaltyLogitsProcessor (over
prompt + generated ids, pads included, as HF does), TemperatureLogitsWarper,
TopKLogitsWarper, TopPLogitsWarper; then softmax and torch.multinomial. All under
torch.inference_mode(), f32, torch.set_num_threads(--threads).

No EOS: every prompt gets exactly --new-tokens new tokens (weights are random, so EOS
behaviour would be meaningless; speed does not depend on the weights' values).

Prompts (identical to bench/sample.cpp's): prompt i has 24 + (7 i mod 17) tokens (24..40,
~32 on average), token j = (7919 i + 104729 j + 13) mod vocab.

CLI:
  sample_baseline.py --batch B [--prompts N] ...   one measurement in this process; prints
      {"bench":"sample_baseline","batch":B,"prompts":N,"generated_tokens":..,"seconds":..,
       "tokens_per_s":..,"cpu_seconds":..,"tokens_per_cpu_s":..,"peak_rss_mb":..,"threads":..,"cache":"torch.cat"}
  sample_baseline.py --batches 1,8,32               one fresh child process per batch size
      (so peak RSS figures do not mix); prints each child's line.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


# ----------------------------------------------------------------------------- model

def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin):
    cos = cos.unsqueeze(1)
    sin = sin.unsqueeze(1)
    return (q * cos) + (rotate_half(q) * sin), (k * cos) + (rotate_half(k) * sin)


class RotaryEmbedding(nn.Module):
    def __init__(self, dim, base):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, x, position_ids):
        inv_freq_expanded = self.inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1)
        position_ids_expanded = position_ids[:, None, :].float()
        freqs = (inv_freq_expanded @ position_ids_expanded).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


class DynamicCache:
    """transformers' legacy DynamicCache: torch.cat per layer per step."""

    def __init__(self, layers):
        self.key_cache = [None] * layers
        self.value_cache = [None] * layers

    def update(self, k, v, layer):
        if self.key_cache[layer] is None:
            self.key_cache[layer], self.value_cache[layer] = k, v
        else:
            self.key_cache[layer] = torch.cat([self.key_cache[layer], k], dim=-2)
            self.value_cache[layer] = torch.cat([self.value_cache[layer], v], dim=-2)
        return self.key_cache[layer], self.value_cache[layer]


class RMSNorm(nn.Module):
    def __init__(self, hidden, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.to(torch.float32)
        variance = x.pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(variance + self.eps)
        return self.weight * x.to(dtype)


class MLP(nn.Module):
    def __init__(self, hidden, inter):
        super().__init__()
        self.gate_proj = nn.Linear(hidden, inter, bias=False)
        self.up_proj = nn.Linear(hidden, inter, bias=False)
        self.down_proj = nn.Linear(inter, hidden, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Attention(nn.Module):
    def __init__(self, hidden, heads, layer_idx):
        super().__init__()
        self.head_dim = hidden // heads
        self.scaling = self.head_dim ** -0.5
        self.layer_idx = layer_idx
        self.q_proj = nn.Linear(hidden, hidden, bias=False)
        self.k_proj = nn.Linear(hidden, hidden, bias=False)
        self.v_proj = nn.Linear(hidden, hidden, bias=False)
        self.o_proj = nn.Linear(hidden, hidden, bias=False)

    def forward(self, h, position_embeddings, mask, cache):
        input_shape = h.shape[:-1]
        shape = (*input_shape, -1, self.head_dim)
        q = self.q_proj(h).view(shape).transpose(1, 2)
        k = self.k_proj(h).view(shape).transpose(1, 2)
        v = self.v_proj(h).view(shape).transpose(1, 2)
        cos, sin = position_embeddings
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        k, v = cache.update(k, v, self.layer_idx)
        w = torch.matmul(q, k.transpose(2, 3)) * self.scaling
        w = w + mask[:, :, :, : k.shape[-2]]
        w = F.softmax(w, dim=-1, dtype=torch.float32).to(q.dtype)
        out = torch.matmul(w, v).transpose(1, 2).contiguous()
        return self.o_proj(out.reshape(*input_shape, -1).contiguous())


class DecoderLayer(nn.Module):
    def __init__(self, hidden, heads, inter, layer_idx):
        super().__init__()
        self.self_attn = Attention(hidden, heads, layer_idx)
        self.mlp = MLP(hidden, inter)
        self.input_layernorm = RMSNorm(hidden)
        self.post_attention_layernorm = RMSNorm(hidden)

    def forward(self, h, position_embeddings, mask, cache):
        r = h
        h = r + self.self_attn(self.input_layernorm(h), position_embeddings, mask, cache)
        r = h
        return r + self.mlp(self.post_attention_layernorm(h))


def causal_mask_4d(attention_mask, q_len, dtype):
    """HF's 4D additive mask for q_len new positions over the whole 2D mask [B, kv_len]."""
    min_dtype = torch.finfo(dtype).min
    batch, kv_len = attention_mask.shape
    past = kv_len - q_len
    causal = torch.full((q_len, kv_len), min_dtype, dtype=dtype)
    causal = torch.triu(causal, diagonal=past + 1)
    causal = causal[None, None, :, :].expand(batch, 1, -1, -1).clone()
    padding = causal + attention_mask[:, None, None, :].to(dtype)
    return causal.masked_fill(padding == 0, min_dtype)


class LlamaForCausalLM(nn.Module):
    def __init__(self, vocab, hidden, layers, heads, inter, rope_theta=10000.0):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, hidden)
        self.layers = nn.ModuleList([DecoderLayer(hidden, heads, inter, i) for i in range(layers)])
        self.norm = RMSNorm(hidden)
        self.rotary_emb = RotaryEmbedding(hidden // heads, rope_theta)
        self.lm_head = nn.Linear(hidden, vocab, bias=False)

    def forward(self, input_ids, attention_mask, position_ids, cache):
        h = self.embed_tokens(input_ids)
        mask = causal_mask_4d(attention_mask, input_ids.shape[1], h.dtype)
        pe = self.rotary_emb(h, position_ids)
        for layer in self.layers:
            h = layer(h, pe, mask, cache)
        h = self.norm(h)
        return self.lm_head(h[:, -1:, :])[:, -1, :]  # logits_to_keep=1


# ----------------------------------------------------------------------------- processors

def repetition_penalty(input_ids, scores, penalty):
    score = torch.gather(scores, 1, input_ids)
    score = torch.where(score < 0, score * penalty, score / penalty)
    return scores.scatter(1, input_ids, score)


def top_k(scores, k):
    k = min(k, scores.size(-1))
    remove = scores < torch.topk(scores, k)[0][..., -1, None]
    return scores.masked_fill(remove, -float("inf"))


def top_p(scores, p):
    sorted_logits, sorted_indices = torch.sort(scores, descending=False)
    cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    sorted_remove = cumulative <= (1 - p)
    sorted_remove[..., -1:] = 0
    remove = sorted_remove.scatter(1, sorted_indices, sorted_remove)
    return scores.masked_fill(remove, -float("inf"))


# ----------------------------------------------------------------------------- generate

def make_prompts(n, vocab):
    return [[(7919 * i + 104729 * j + 13) % vocab for j in range(24 + (7 * i) % 17)] for i in range(n)]


def generate_batch(model, prompts, args, pad_id=0):
    """HF generate(do_sample=True) on one left-padded batch, no EOS: --new-tokens steps."""
    longest = max(len(p) for p in prompts)
    ids = torch.tensor([[pad_id] * (longest - len(p)) + p for p in prompts], dtype=torch.long)
    mask = torch.tensor([[0] * (longest - len(p)) + [1] * len(p) for p in prompts], dtype=torch.long)
    cache = DynamicCache(len(model.layers))
    step_ids = ids
    for _ in range(args.new_tokens):
        position_ids = mask.cumsum(-1) - 1
        position_ids = position_ids.masked_fill(mask == 0, 1)[:, -step_ids.shape[1]:]
        logits = model(step_ids, mask, position_ids, cache).float()
        scores = repetition_penalty(ids, logits, args.repetition_penalty)
        scores = scores / args.temperature
        scores = top_k(scores, args.top_k)
        scores = top_p(scores, args.top_p)
        probs = F.softmax(scores, dim=-1)
        nxt = torch.multinomial(probs, num_samples=1)
        ids = torch.cat([ids, nxt], dim=-1)
        mask = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=-1)
        step_ids = nxt
    return ids[:, longest:]


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def measure(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    with torch.inference_mode():
        if args.dtype == "bf16":  # built in bf16 directly: no f32 copy in the peak RSS
            torch.set_default_dtype(torch.bfloat16)
        model = LlamaForCausalLM(args.vocab, args.hidden, args.layers, args.heads, args.intermediate)
        torch.set_default_dtype(torch.float32)
        for name, p in model.named_parameters():
            if "norm" not in name:
                p.normal_(0.0, 0.02)
        model.eval()
        prompts = make_prompts(args.prompts, args.vocab)
        warm = argparse.Namespace(**vars(args))
        warm.new_tokens = 4
        generate_batch(model, prompts[: args.batch], warm)  # warm-up, not timed
        t0, c0 = time.perf_counter(), cpu_seconds()
        generated = 0
        for b in range(0, len(prompts), args.batch):
            out = generate_batch(model, prompts[b: b + args.batch], args)
            generated += out.numel()
        seconds, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB
    print(json.dumps({"bench": "sample_baseline", "batch": args.batch, "prompts": args.prompts,
                      "new_tokens": args.new_tokens, "generated_tokens": generated,
                      "seconds": seconds, "tokens_per_s": generated / seconds,
                      "cpu_seconds": cpu, "tokens_per_cpu_s": generated / cpu,
                      "peak_rss_mb": rss_mb, "threads": torch.get_num_threads(),
                      "cache": "torch.cat (HF legacy DynamicCache)", "batching": "static",
                      "torch": torch.__version__, "dtype": args.dtype,
                      "env": {k: os.environ.get(k) for k in
                              ("OPENBLAS_CORETYPE", "OMP_WAIT_POLICY", "OMP_NUM_THREADS",
                               "OPENBLAS_NUM_THREADS")}}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int)
    ap.add_argument("--batches", default="1,8,32", help="driver mode: one child per batch size")
    ap.add_argument("--prompts", type=int, help="default: 2 at batch 1, else 2 x batch")
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--dtype", choices=["f32", "bf16"], default="f32",
                    help="bf16: parameters and activations in bfloat16; logits and sampling in float32")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--hidden", type=int, default=768)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--intermediate", type=int, default=2048)
    ap.add_argument("--temperature", type=float, default=0.5)
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--top-p", type=float, default=0.95)
    ap.add_argument("--repetition-penalty", type=float, default=1.05)
    args = ap.parse_args()
    if args.batch is not None:
        if args.prompts is None:
            args.prompts = 2 if args.batch == 1 else 2 * args.batch
        measure(args)
        return
    passthrough = [a for a in sys.argv[1:]]
    if "--batches" in passthrough:
        i = passthrough.index("--batches")
        del passthrough[i:i + 2]
    for b in [int(x) for x in args.batches.split(",") if x]:
        r = subprocess.run([sys.executable, os.path.abspath(__file__), "--batch", str(b)] + passthrough)
        if r.returncode != 0:
            sys.exit(r.returncode)


if __name__ == "__main__":
    main()
