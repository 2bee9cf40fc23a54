#!/usr/bin/python3
"""Comparisons for the model e2e tests (tests/e2e/model_parity.sh): ram's `score` /
`generate` output against tests/python/hf_reference.py, and the small helpers around them.

  compare_scores.py make-inputs --model DIR --seed S --score OUT --generate OUT [--n 6]
      random token ids (read vocab_size from DIR/config.json), lines of varied lengths
  compare_scores.py scores --ram A --ref B --rtol R [--atol X] [--top loose]
      logprob and every token_logprob: |a - b| <= rtol * max(|a|, |b|) + atol;
      top_logits: same 5 ids in the same order (exact, f32) and logits within tolerance;
      --top loose (bf16): the reference's top-1 id among ram's 5 and each shared id's logit
      within tolerance (near-ties may swap places in bf16)
  compare_scores.py ids --ram A --ref B          generated ids identical per line
  compare_scores.py pick-eos --ref B             an id that ends row 0 early (its 3rd token)
  compare_scores.py set-eos --model DIR --eos ID eos_token_id in config.json and
                                                 generation_config.json
  compare_scores.py decode-check --tokenizer DIR --gen A
      every line's "text" equals the byte-level BPE decoding of its "ids" (special tokens
      skipped), decoded here from tokenizer.json's vocab alone
Exit 0 when everything matches; otherwise every mismatch is printed and the exit is 1.
"""
import argparse
import json
import random
import sys


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def close(a, b, rtol, atol):
    return abs(a - b) <= rtol * max(abs(a), abs(b)) + atol


def cmd_make_inputs(a):
    with open(a.model + "/config.json") as f:
        vocab = json.load(f)["vocab_size"]
    rng = random.Random(a.seed)
    ids = lambda n: [rng.randrange(vocab) for _ in range(n)]
    # Varied lengths: a 1-token prompt, long and short rows in one batch (padding).
    shapes = [(1, 5), (9, 3), (3, 12), (14, 1), (6, 7), (2, 2), (11, 9), (5, 4)][: a.n]
    with open(a.score, "w") as f:
        for p, r in shapes:
            f.write(json.dumps({"prompt_ids": ids(p), "response_ids": ids(r)}) + "\n")
    with open(a.generate, "w") as f:
        for p, _ in shapes:
            f.write(json.dumps({"prompt_ids": ids(p)}) + "\n")


def cmd_scores(a):
    ram, ref = read_jsonl(a.ram), read_jsonl(a.ref)
    bad = []
    if len(ram) != len(ref):
        bad.append("line counts differ: ram %d, reference %d" % (len(ram), len(ref)))
    worst = 0.0
    for n, (x, y) in enumerate(zip(ram, ref), 1):
        pairs = [("logprob", x["logprob"], y["logprob"])]
        if len(x["token_logprobs"]) != len(y["token_logprobs"]):
            bad.append("line %d: %d token_logprobs, reference %d"
                       % (n, len(x["token_logprobs"]), len(y["token_logprobs"])))
        pairs += [("token_logprobs[%d]" % i, u, v)
                  for i, (u, v) in enumerate(zip(x["token_logprobs"], y["token_logprobs"]))]
        xt = {i: v for i, v in x["top_logits"]}
        yt = {i: v for i, v in y["top_logits"]}
        xi, yi = [i for i, _ in x["top_logits"]], [i for i, _ in y["top_logits"]]
        if a.top == "exact":
            if xi != yi:
                bad.append("line %d: top_logits ids %s, reference %s" % (n, xi, yi))
        elif yi[0] not in xt:
            bad.append("line %d: the reference's top id %d is not in ram's top 5 %s" % (n, yi[0], xi))
        pairs += [("top_logits[id %d]" % i, xt[i], yt[i]) for i in yi if i in xt]
        for what, u, v in pairs:
            worst = max(worst, abs(u - v) / max(abs(u), abs(v), 1e-30))
            if not close(u, v, a.rtol, a.atol):
                bad.append("line %d: %s = %.9g, reference %.9g (rtol %g)" % (n, what, u, v, a.rtol))
    print("scores: %d lines, largest relative difference %.3g (rtol %g)" % (len(ram), worst, a.rtol))
    return bad


def cmd_ids(a):
    ram, ref = read_jsonl(a.ram), read_jsonl(a.ref)
    bad = [] if len(ram) == len(ref) else ["line counts differ: %d vs %d" % (len(ram), len(ref))]
    for n, (x, y) in enumerate(zip(ram, ref), 1):
        if x["ids"] != y["ids"]:
            bad.append("line %d: ram %s, reference %s" % (n, x["ids"], y["ids"]))
    print("ids: %d lines compared, lengths %s" % (len(ram), [len(x["ids"]) for x in ram]))
    return bad


def cmd_pick_eos(a):
    rows = read_jsonl(a.ref)
    row = rows[0]["ids"]
    print(row[2])


def cmd_set_eos(a):
    for name in ("config.json", "generation_config.json"):
        path = a.model + "/" + name
        with open(path) as f:
            c = json.load(f)
        c["eos_token_id"] = a.eos
        with open(path, "w") as f:
            json.dump(c, f, indent=2)


def bytes_to_unicode():
    """GPT-2's byte ↔ printable-character table (as HF's ByteLevel uses)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def cmd_decode_check(a):
    with open(a.tokenizer + "/tokenizer.json", encoding="utf-8") as f:
        tj = json.load(f)
    inv = {i: t for t, i in tj["model"]["vocab"].items()}
    special = {t["id"] for t in tj.get("added_tokens", []) if t.get("special")}
    for t in tj.get("added_tokens", []):
        inv[t["id"]] = t["content"]
    table = bytes_to_unicode()
    bad = []
    for n, rec in enumerate(read_jsonl(a.gen), 1):
        data = bytearray()
        for i in rec["ids"]:
            if i in special or i not in inv:
                continue
            data += bytes(table[ch] for ch in inv[i])
        want = data.decode("utf-8", "replace")
        if rec["text"] != want:
            bad.append("line %d: text %r, expected %r" % (n, rec["text"], want))
    print("decode-check: %d lines" % n)
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("make-inputs")
    s.add_argument("--model", required=True)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--n", type=int, default=6)
    s.add_argument("--score", required=True)
    s.add_argument("--generate", required=True)
    s = sub.add_parser("scores")
    s.add_argument("--ram", required=True)
    s.add_argument("--ref", required=True)
    s.add_argument("--rtol", type=float, required=True)
    s.add_argument("--atol", type=float, default=1e-6)
    s.add_argument("--top", choices=["exact", "loose"], default="exact")
    s = sub.add_parser("ids")
    s.add_argument("--ram", required=True)
    s.add_argument("--ref", required=True)
    s = sub.add_parser("pick-eos")
    s.add_argument("--ref", required=True)
    s = sub.add_parser("set-eos")
    s.add_argument("--model", required=True)
    s.add_argument("--eos", type=int, required=True)
    s = sub.add_parser("decode-check")
    s.add_argument("--tokenizer", required=True)
    s.add_argument("--gen", required=True)
    a = ap.parse_args()
    fn = {"make-inputs": cmd_make_inputs, "scores": cmd_scores, "ids": cmd_ids,
          "pick-eos": cmd_pick_eos, "set-eos": cmd_set_eos, "decode-check": cmd_decode_check}
    bad = fn[a.cmd](a)
    if bad:
        for b in bad:
            print("MISMATCH: " + b)
        sys.exit(1)


if __name__ == "__main__":
    main()
