#!/usr/bin/python3
"""Independent reference of HuggingFace transformers' causal LMs, for ram's tests.

transformers is not installed here (no PyPI), so this file re-implements, with torch 1.13,
the forward passes of transformers' LlamaForCausalLM, Qwen2ForCausalLM and
GPTNeoXForCausalLM as modeling_llama.py / modeling_qwen2.py / modeling_gpt_neox.py write
them (eager attention): module layout, HF parameter names, LlamaRMSNorm in float32,
rotary cos/sin in float32 cast to the activation dtype, rope_scaling default / linear /
llama3 (_compute_llama3_parameters), repeat_kv for GQA, softmax in float32, GPT-NeoX's
fused query_key_value layout, partial rotary and (non-)parallel residual.
It never imports anything from ram: it reads config.json and the safetensors files itself
(a small parser: u64 header length, JSON header, raw little-endian data; BF16 via int16).

CLI:
  hf_reference.py score  --model DIR --input IN.jsonl [--dtype f32|bf16]
      {"prompt_ids": [...], "response_ids": [...]} per line →
      {"logprob": x, "token_logprobs": [...], "top_logits": [[id, logit] x5]}
      (top_logits at the last response token; one row at a time, no padding)
  hf_reference.py greedy --model DIR --input IN.jsonl --max-new-tokens N [--eos ID] [--dtype]
      {"prompt_ids": [...]} → {"ids": [new ids]} (stops after EOS, which is included)
  hf_reference.py logits --model DIR --ids-json '[[...], ...]' [--dtype]
      [--attention-json '[[1,..]]'] → JSON nested list of float32 logits [B,T,V]
      (with --attention-json: positions = cumsum(mask) - 1, padding set to 1, as generate)
  hf_reference.py logits --requests REQ.jsonl
      lines {"model": DIR, "dtype": "f32"|"bf16", "ids": [[..]], "attention": [[..]]} →
      one line of logits each (one Python start-up for many checks)
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


# ----------------------------------------------------------------------------- safetensors

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
           "I16": np.int16, "I8": np.int8, "U8": np.uint8, "F64": np.float64}


def read_safetensors(path):
    """Returns {name: torch.Tensor} of one .safetensors file (BF16 kept as bfloat16)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[base + begin:base + end]
        shape = info["shape"]
        if info["dtype"] == "BF16":
            a = np.frombuffer(raw, dtype=np.int16).copy().reshape(shape)
            out[name] = torch.from_numpy(a).view(torch.bfloat16)
        else:
            a = np.frombuffer(raw, dtype=_DTYPES[info["dtype"]]).copy().reshape(shape)
            out[name] = torch.from_numpy(a)
    return out


def read_checkpoint(model_dir):
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            weight_map = json.load(f)["weight_map"]
        out = {}
        for shard in sorted(set(weight_map.values())):
            out.update(read_safetensors(os.path.join(model_dir, shard)))
        return out
    return read_safetensors(os.path.join(model_dir, "model.safetensors"))


# ----------------------------------------------------------------------------- rotary

def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin):
    cos = cos.unsqueeze(1)  # unsqueeze_dim=1: [B,1,T,D]
    sin = sin.unsqueeze(1)
    q_embed = (q * cos) + (rotate_half(q) * sin)
    k_embed = (k * cos) + (rotate_half(k) * sin)
    return q_embed, k_embed


def compute_default_rope_parameters(base, dim):
    return 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))


def compute_inv_freq(config, dim, base):
    """modeling_rope_utils: ROPE_INIT_FUNCTIONS[rope_type]; returns (inv_freq, attention_factor)."""
    inv_freq = compute_default_rope_parameters(base, dim)
    rs = config.get("rope_scaling")
    if not rs:
        return inv_freq, 1.0
    rope_type = rs.get("rope_type", rs.get("type"))
    if rope_type == "default":
        return inv_freq, 1.0
    if rope_type == "linear":
        return inv_freq / rs["factor"], 1.0
    if rope_type == "llama3":
        # _compute_llama3_parameters
        factor = rs["factor"]
        low_freq_factor = rs["low_freq_factor"]
        high_freq_factor = rs["high_freq_factor"]
        old_context_len = rs["original_max_position_embeddings"]
        low_freq_wavelen = old_context_len / low_freq_factor
        high_freq_wavelen = old_context_len / high_freq_factor
        wavelen = 2 * math.pi / inv_freq
        inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
        smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
        smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
        is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
        inv_freq_llama = torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)
        return inv_freq_llama, 1.0
    raise SystemExit("hf_reference: rope_scaling type %r not supported" % rope_type)


class RotaryEmbedding(nn.Module):
    def __init__(self, config, dim, base):
        super().__init__()
        inv_freq, self.attention_scaling = compute_inv_freq(config, dim, base)
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    @torch.no_grad()
    def forward(self, x, position_ids):
        inv_freq_expanded = self.inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1)
        position_ids_expanded = position_ids[:, None, :].float()
        freqs = (inv_freq_expanded.float() @ position_ids_expanded.float()).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos = emb.cos() * self.attention_scaling
        sin = emb.sin() * self.attention_scaling
        return cos.to(dtype=x.dtype), sin.to(dtype=x.dtype)


def repeat_kv(hidden_states, n_rep):
    batch, num_key_value_heads, slen, head_dim = hidden_states.shape
    if n_rep == 1:
        return hidden_states
    hidden_states = hidden_states[:, :, None, :, :].expand(batch, num_key_value_heads, n_rep, slen, head_dim)
    return hidden_states.reshape(batch, num_key_value_heads * n_rep, slen, head_dim)


def eager_attention_forward(query, key, value, attention_mask, scaling, n_rep):
    key_states = repeat_kv(key, n_rep)
    value_states = repeat_kv(value, n_rep)
    attn_weights = torch.matmul(query, key_states.transpose(2, 3)) * scaling
    if attention_mask is not None:
        attn_weights = attn_weights + attention_mask[:, :, :, : key_states.shape[-2]]
    attn_weights = F.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query.dtype)
    attn_output = torch.matmul(attn_weights, value_states)
    return attn_output.transpose(1, 2).contiguous()


def causal_mask_4d(attention_mask, T, dtype):
    """The 4D additive mask of HF's _prepare_4d_causal_attention_mask (no cache)."""
    min_dtype = torch.finfo(dtype).min
    B = attention_mask.shape[0]
    causal = torch.full((T, T), min_dtype, dtype=dtype)
    causal = torch.triu(causal, diagonal=1)
    causal = causal[None, None, :, :].expand(B, 1, -1, -1).clone()
    padding = causal + attention_mask[:, None, None, :].to(dtype)
    padding = padding == 0
    causal = causal.masked_fill(padding, min_dtype)
    return causal


# ----------------------------------------------------------------------------- llama / qwen2

class LlamaRMSNorm(nn.Module):
    def __init__(self, hidden_size, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states):
        input_dtype = hidden_states.dtype
        hidden_states = hidden_states.to(torch.float32)
        variance = hidden_states.pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        return self.weight * hidden_states.to(input_dtype)


ACT = {"silu": F.silu, "gelu": F.gelu, "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
       "relu": F.relu, "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh")}


class LlamaMLP(nn.Module):
    def __init__(self, c, bias):
        super().__init__()
        self.gate_proj = nn.Linear(c["hidden_size"], c["intermediate_size"], bias=bias)
        self.up_proj = nn.Linear(c["hidden_size"], c["intermediate_size"], bias=bias)
        self.down_proj = nn.Linear(c["intermediate_size"], c["hidden_size"], bias=bias)
        self.act_fn = ACT[c.get("hidden_act", "silu")]

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class LlamaAttention(nn.Module):
    def __init__(self, c, qkv_bias, o_bias):
        super().__init__()
        self.head_dim = c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
        self.num_heads = c["num_attention_heads"]
        self.num_kv = c.get("num_key_value_heads") or self.num_heads
        self.n_rep = self.num_heads // self.num_kv
        self.scaling = self.head_dim ** -0.5
        h = c["hidden_size"]
        self.q_proj = nn.Linear(h, self.num_heads * self.head_dim, bias=qkv_bias)
        self.k_proj = nn.Linear(h, self.num_kv * self.head_dim, bias=qkv_bias)
        self.v_proj = nn.Linear(h, self.num_kv * self.head_dim, bias=qkv_bias)
        self.o_proj = nn.Linear(self.num_heads * self.head_dim, h, bias=o_bias)

    def forward(self, hidden_states, position_embeddings, attention_mask):
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        query_states = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        key_states = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        value_states = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        cos, sin = position_embeddings
        query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin)
        attn_output = eager_attention_forward(query_states, key_states, value_states,
                                              attention_mask, self.scaling, self.n_rep)
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        return self.o_proj(attn_output)


class LlamaDecoderLayer(nn.Module):
    def __init__(self, c, qkv_bias, o_bias, mlp_bias):
        super().__init__()
        self.self_attn = LlamaAttention(c, qkv_bias, o_bias)
        self.mlp = LlamaMLP(c, mlp_bias)
        self.input_layernorm = LlamaRMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.post_attention_layernorm = LlamaRMSNorm(c["hidden_size"], c["rms_norm_eps"])

    def forward(self, hidden_states, attention_mask, position_embeddings):
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        hidden_states = self.self_attn(hidden_states, position_embeddings, attention_mask)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states = self.mlp(hidden_states)
        return residual + hidden_states


class LlamaModel(nn.Module):
    def __init__(self, c, qwen2):
        super().__init__()
        if qwen2:
            qkv_bias, o_bias, mlp_bias = True, False, False
        else:
            qkv_bias = o_bias = bool(c.get("attention_bias", False))
            mlp_bias = bool(c.get("mlp_bias", False))
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList([LlamaDecoderLayer(c, qkv_bias, o_bias, mlp_bias)
                                     for _ in range(c["num_hidden_layers"])])
        self.norm = LlamaRMSNorm(c["hidden_size"], c["rms_norm_eps"])
        head_dim = c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
        self.rotary_emb = RotaryEmbedding(c, head_dim, c.get("rope_theta", 10000.0))

    def forward(self, input_ids, attention_mask, position_ids):
        inputs_embeds = self.embed_tokens(input_ids)
        mask = causal_mask_4d(attention_mask, input_ids.shape[1], inputs_embeds.dtype)
        hidden_states = inputs_embeds
        position_embeddings = self.rotary_emb(hidden_states, position_ids)
        for layer in self.layers:
            hidden_states = layer(hidden_states, mask, position_embeddings)
        return self.norm(hidden_states)


class LlamaForCausalLM(nn.Module):
    def __init__(self, c, qwen2=False):
        super().__init__()
        self.model = LlamaModel(c, qwen2)
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        if c.get("tie_word_embeddings", False):
            self.lm_head.weight = self.model.embed_tokens.weight

    def forward(self, input_ids, attention_mask, position_ids):
        return self.lm_head(self.model(input_ids, attention_mask, position_ids))


# ----------------------------------------------------------------------------- gpt_neox

class GPTNeoXMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense_h_to_4h = nn.Linear(c["hidden_size"], c["intermediate_size"])
        self.dense_4h_to_h = nn.Linear(c["intermediate_size"], c["hidden_size"])
        self.act = ACT[c.get("hidden_act", "gelu")]

    def forward(self, hidden_states):
        return self.dense_4h_to_h(self.act(self.dense_h_to_4h(hidden_states)))


class GPTNeoXAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.num_attention_heads = c["num_attention_heads"]
        self.head_size = c["hidden_size"] // self.num_attention_heads
        self.rotary_ndims = int(self.head_size * c.get("rotary_pct", 0.25))
        self.scaling = self.head_size ** -0.5
        bias = c.get("attention_bias", True)
        self.query_key_value = nn.Linear(c["hidden_size"], 3 * c["hidden_size"], bias=bias)
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"], bias=bias)

    def forward(self, hidden_states, attention_mask, position_embeddings):
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, 3 * self.head_size)
        qkv = self.query_key_value(hidden_states).view(hidden_shape).transpose(1, 2)
        query_states, key_states, value_states = qkv.chunk(3, dim=-1)
        cos, sin = position_embeddings
        query_rot = query_states[..., : self.rotary_ndims]
        query_pass = query_states[..., self.rotary_ndims:]
        key_rot = key_states[..., : self.rotary_ndims]
        key_pass = key_states[..., self.rotary_ndims:]
        query_rot, key_rot = apply_rotary_pos_emb(query_rot, key_rot, cos, sin)
        query_states = torch.cat([query_rot, query_pass], dim=-1)
        key_states = torch.cat([key_rot, key_pass], dim=-1)
        attn_output = eager_attention_forward(query_states, key_states, value_states,
                                              attention_mask, self.scaling, 1)
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        return self.dense(attn_output)


class GPTNeoXLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.use_parallel_residual = c.get("use_parallel_residual", True)
        eps = c.get("layer_norm_eps", 1e-5)
        self.input_layernorm = nn.LayerNorm(c["hidden_size"], eps=eps)
        self.post_attention_layernorm = nn.LayerNorm(c["hidden_size"], eps=eps)
        self.attention = GPTNeoXAttention(c)
        self.mlp = GPTNeoXMLP(c)

    def forward(self, hidden_states, attention_mask, position_embeddings):
        attn_output = self.attention(self.input_layernorm(hidden_states), attention_mask,
                                     position_embeddings)
        if self.use_parallel_residual:
            # x = x + attn(ln1(x)) + mlp(ln2(x))
            mlp_output = self.mlp(self.post_attention_layernorm(hidden_states))
            return mlp_output + attn_output + hidden_states
        # x = x + attn(ln1(x)); x = x + mlp(ln2(x))
        attn_output = attn_output + hidden_states
        mlp_output = self.mlp(self.post_attention_layernorm(attn_output))
        return mlp_output + attn_output


class GPTNeoXModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_in = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList([GPTNeoXLayer(c) for _ in range(c["num_hidden_layers"])])
        self.final_layer_norm = nn.LayerNorm(c["hidden_size"], eps=c.get("layer_norm_eps", 1e-5))
        head_size = c["hidden_size"] // c["num_attention_heads"]
        rot = int(head_size * c.get("rotary_pct", 0.25))
        # GPTNeoXConfig: rope_theta = rotary_emb_base (Pythia's config.json key).
        base = c.get("rotary_emb_base", c.get("rope_theta", 10000))
        self.rotary_emb = RotaryEmbedding(c, rot, base)

    def forward(self, input_ids, attention_mask, position_ids):
        hidden_states = self.embed_in(input_ids)
        mask = causal_mask_4d(attention_mask, input_ids.shape[1], hidden_states.dtype)
        position_embeddings = self.rotary_emb(hidden_states, position_ids)
        for layer in self.layers:
            hidden_states = layer(hidden_states, mask, position_embeddings)
        return self.final_layer_norm(hidden_states)


class GPTNeoXForCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gpt_neox = GPTNeoXModel(c)
        self.embed_out = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        if c.get("tie_word_embeddings", False):
            self.embed_out.weight = self.gpt_neox.embed_in.weight

    def forward(self, input_ids, attention_mask, position_ids):
        return self.embed_out(self.gpt_neox(input_ids, attention_mask, position_ids))


# ----------------------------------------------------------------------------- loading

IGNORED_SUFFIXES = ("rotary_emb.inv_freq", "attention.bias", "attention.masked_bias")


def load_model(model_dir, dtype):
    with open(os.path.join(model_dir, "config.json")) as f:
        c = json.load(f)
    mt = c["model_type"]
    if mt == "llama":
        model = LlamaForCausalLM(c)
    elif mt == "qwen2":
        if c.get("use_sliding_window", False):
            raise SystemExit("hf_reference: use_sliding_window not supported")
        model = LlamaForCausalLM(c, qwen2=True)
    elif mt == "gpt_neox":
        model = GPTNeoXForCausalLM(c)
    else:
        raise SystemExit("hf_reference: model_type %r not supported" % mt)
    sd = {k: v for k, v in read_checkpoint(model_dir).items() if not k.endswith(IGNORED_SUFFIXES)}
    head = "embed_out.weight" if mt == "gpt_neox" else "lm_head.weight"
    if c.get("tie_word_embeddings", False):
        sd.pop(head, None)
        missing, unexpected = model.load_state_dict(sd, strict=False)
        missing = [m for m in missing if m != head]
    else:
        missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise SystemExit("hf_reference: missing %s unexpected %s" % (missing, unexpected))
    # As from_pretrained(torch_dtype=...) does: parameters in the dtype, while the rotary
    # inv_freq buffer, created explicitly in float32, stays float32 (model.to(bf16) would
    # round it).
    target = torch.bfloat16 if dtype == "bf16" else torch.float32
    for p in model.parameters():
        p.data = p.data.to(target)
    model.eval()
    return model


def run_logits(model, ids, attention=None):
    """HF semantics: positions = cumsum(attention) - 1, padding positions set to 1."""
    ids = torch.as_tensor(ids, dtype=torch.long)
    if attention is None:
        attention = torch.ones_like(ids)
    attention = torch.as_tensor(attention, dtype=torch.long)
    position_ids = attention.cumsum(-1) - 1
    position_ids = position_ids.masked_fill(attention == 0, 1)
    with torch.no_grad():
        return model(ids, attention, position_ids).float()


def cmd_score(args):
    model = load_model(args.model, args.dtype)
    out = []
    with open(args.input) as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            p, r = rec["prompt_ids"], rec["response_ids"]
            ids = p + r
            logits = run_logits(model, [ids])[0]  # [T,V] float32
            logp = torch.log_softmax(logits, dim=-1)
            toks = [float(logp[len(p) + i - 1, tok]) for i, tok in enumerate(r)]
            last = logits[len(ids) - 1]
            top = torch.topk(last, 5)
            out.append({"logprob": float(sum(toks)), "token_logprobs": toks,
                        "top_logits": [[int(i), float(v)] for v, i in zip(top.values, top.indices)]})
    for o in out:
        print(json.dumps(o))


def cmd_greedy(args):
    model = load_model(args.model, args.dtype)
    with open(args.input) as f:
        for line in f:
            if not line.strip():
                continue
            ids = list(json.loads(line)["prompt_ids"])
            new = []
            for _ in range(args.max_new_tokens):
                nxt = int(run_logits(model, [ids])[0, -1].argmax())
                new.append(nxt)
                ids.append(nxt)
                if args.eos is not None and nxt == args.eos:
                    break
            print(json.dumps({"ids": new}), flush=True)


def cmd_logits(args):
    if args.requests:
        # One process for many checks: each line {"model", "dtype", "ids", "attention"}
        # → one line of logits.
        with open(args.requests) as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    model = load_model(r["model"], r.get("dtype", "f32"))
                    print(json.dumps(run_logits(model, r["ids"], r.get("attention")).tolist()))
        return
    if not args.model or not args.ids_json:
        raise SystemExit("hf_reference logits: --model and --ids-json (or --requests FILE) are required")
    model = load_model(args.model, args.dtype)
    ids = json.loads(args.ids_json)
    att = json.loads(args.attention_json) if args.attention_json else None
    print(json.dumps(run_logits(model, ids, att).tolist()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("score")
    s.add_argument("--model", required=True)
    s.add_argument("--input", required=True)
    s.add_argument("--dtype", default="f32", choices=["f32", "bf16"])
    g = sub.add_parser("greedy")
    g.add_argument("--model", required=True)
    g.add_argument("--input", required=True)
    g.add_argument("--max-new-tokens", type=int, required=True)
    g.add_argument("--eos", type=int, default=None)
    g.add_argument("--dtype", default="f32", choices=["f32", "bf16"])
    lg = sub.add_parser("logits")
    lg.add_argument("--model")
    lg.add_argument("--ids-json")
    lg.add_argument("--requests", default=None)
    lg.add_argument("--attention-json", default=None)
    lg.add_argument("--dtype", default="f32", choices=["f32", "bf16"])
    args = ap.parse_args()
    torch.set_num_threads(1)
    {"score": cmd_score, "greedy": cmd_greedy, "logits": cmd_logits}[args.cmd](args)


if __name__ == "__main__":
    main()
