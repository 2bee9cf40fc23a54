#!/usr/bin/python3
"""Independent reference for `ram make-tokenizer --bpe N` (framework/src/tokenizer/train_bpe.cpp).

  train_bpe_ref.py DATA.h5 TOKENIZER_DIR N

DATA.h5: `ram prepare` of the same dataset (prompt, chosen and rejected texts). Splits every
text with GPT-2's pre-tokenizer pattern (ASCII classes: the demo texts are ASCII; any other
byte fails here), writes pieces as GPT-2's byte symbols, learns merges the textbook way
(count adjacent pairs weighted by piece frequency, merge the most frequent, ties to the
smallest pair) and compares them with TOKENIZER_DIR/tokenizer.json's merges, in order.
Also checks the vocabulary: bytes 0..255, one id per new merged token, then the specials.
"""
import json
import re
import sys
from collections import Counter

import h5py

PAT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def ragged(g, name):
    data, off = g[name][:], g[name + "_offsets"][:]
    return [bytes(data[off[i]:off[i + 1]]).decode("utf-8") for i in range(len(off) - 1)]


def main():
    data, tok_dir, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with h5py.File(data, "r") as f:
        g = f["examples"]
        texts = [t for k in ("prompt_text", "chosen_text", "rejected_text") for t in ragged(g, k) if t]
    b2u = bytes_to_unicode()
    counts = Counter()
    for t in texts:
        assert t.isascii(), t
        pieces = PAT.findall(t)
        assert "".join(pieces) == t, (t, pieces)
        counts.update(pieces)
    words = [[[b2u[b] for b in p.encode()], c] for p, c in sorted(counts.items(), key=lambda kv: kv[0].encode())]
    merges = []
    for _ in range(n):
        pairs = Counter()
        for syms, c in words:
            for a, b in zip(syms, syms[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best_n = max(pairs.values())
        if best_n < 2:
            break
        best = min((p for p, c in pairs.items() if c == best_n), key=lambda p: (p[0].encode(), p[1].encode()))
        merges.append(best)
        for w in words:
            syms, out, i = w[0], [], 0
            while i < len(syms):
                if i + 1 < len(syms) and (syms[i], syms[i + 1]) == best:
                    out.append(syms[i] + syms[i + 1])
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            w[0] = out
    tok = json.load(open(f"{tok_dir}/tokenizer.json"))
    theirs = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in tok["model"]["merges"]]
    assert len(theirs) == len(merges), (len(theirs), len(merges))
    for i, (a, b) in enumerate(zip(theirs, merges)):
        assert a == b, f"merge {i}: ram {a} != reference {b}"
    vocab = tok["model"]["vocab"]
    want = {b2u[b]: b for b in range(256)}
    for a, b in merges:
        if a + b not in want:
            want[a + b] = len(want)
    assert vocab == want, "vocabulary differs"
    specials = {t["content"]: t["id"] for t in tok["added_tokens"]}
    assert specials == {"<|bos|>": len(want), "<|eos|>": len(want) + 1, "<|pad|>": len(want) + 2}, specials
    print(f"train_bpe_ref: OK ({len(merges)} merges from {len(texts)} texts, vocabulary {len(want) + 3})")


if __name__ == "__main__":
    main()
