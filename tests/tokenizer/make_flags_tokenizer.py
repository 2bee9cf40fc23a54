#!/usr/bin/python3
"""make_flags_tokenizer.py GPT2_DIR OUT_DIR — a synthetic tokenizer.json for the parity test
that exercises what the five real files leave out: added-token flags lstrip, rstrip,
single_word and normalized (with an NFC normalizer), a Split with a literal String pattern,
ByteLevel add_prefix_space, and a template with a token after $A. Built from GPT-2's
vocabulary and merges; HF's Node binding is the reference for it like for the real ones.
"""
import json
import os
import sys

src, out = sys.argv[1], sys.argv[2]
t = json.load(open(os.path.join(src, "tokenizer.json"), encoding="utf-8"))
n = max(t["model"]["vocab"].values()) + 1
def tok(i, content, **flags):
    d = {"id": n + i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": False}
    d.update(flags)
    return d
t["added_tokens"] += [
    tok(0, "<mask>", lstrip=True, special=True),
    tok(1, "[SEP]", rstrip=True, special=True),
    tok(2, "cat", single_word=True, normalized=True),
    tok(3, "\u00e9t\u00e9", normalized=True),
    tok(4, "<both>", lstrip=True, rstrip=True, special=True),
]
t["normalizer"] = {"type": "NFC"}
t["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
    {"type": "Split", "pattern": {"String": " - "}, "behavior": "Isolated", "invert": False},
    {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}]}
t["post_processor"] = {"type": "TemplateProcessing",
    "single": [{"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
               {"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}],
    "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
    "special_tokens": {"[SEP]": {"id": "[SEP]", "ids": [n + 1], "tokens": ["[SEP]"]},
                       "<|endoftext|>": {"id": "<|endoftext|>", "ids": [50256], "tokens": ["<|endoftext|>"]}}}
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
    json.dump(t, f, ensure_ascii=False)
