#!/usr/bin/python3
"""Independent references for tests/unit/test_tokenizer.cpp (Python's own unicodedata,
codecs and hashlib; nothing from ram).
  nfc N SEED      N JSON lines {"text", "nfc"}: random strings rich in combining marks,
                  Hangul, precomposed letters and singletons, and unicodedata's NFC of them
  lossy N SEED    N JSON lines {"hex", "text"}: random byte strings near UTF-8 and
                  bytes.decode("utf-8", "replace") of them (one U+FFFD per maximal subpart)
  files DIR...    per tokenizer folder {"dir", "sha256", "vocab_size"}: sha256 of
                  tokenizer.json, distinct tokens of model vocab and added tokens together
"""
import hashlib
import json
import os
import random
import sys
import unicodedata


def nfc_cases(n, seed):
    rng = random.Random(seed)
    pools = [
        list(range(0x41, 0x7B)), list(range(0xC0, 0x180)), list(range(0x300, 0x370)),
        list(range(0x1100, 0x1113)), list(range(0x1161, 0x1176)), list(range(0x11A8, 0x11C3)),
        list(range(0xAC00, 0xAC40)), [0x212B, 0x2126, 0x212A, 0xF900, 0xFA10, 0x2F800, 0x0344, 0x0958,
                                      0x093C, 0x0915, 0x1E9B, 0x0385, 0x1FEE, 0x01D5, 0x0F73, 0x0F81],
        list(range(0x1E00, 0x1F00)), list(range(0x0591, 0x05C8)), list(range(0x0610, 0x0620)),
        list(range(0x4E00, 0x4E10)), [0x20, 0x1F600, 0x3099, 0x309A, 0x304B, 0x30AB, 0x0CBF, 0x0CD5, 0x0CC6],
    ]
    for _ in range(n):
        k = rng.randint(1, 12)
        s = "".join(chr(rng.choice(rng.choice(pools))) for _ in range(k))
        print(json.dumps({"text": s, "nfc": unicodedata.normalize("NFC", s)}))


def lossy_cases(n, seed):
    rng = random.Random(seed)
    valid = "aé€😀\u0800\uffff\U0010ffff".encode()
    specials = [0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xA0, 0xED, 0x9F, 0xA0, 0xEF, 0xF0, 0x90,
                0xF4, 0x8F, 0x90, 0xF5, 0xFF, 0x41]
    for _ in range(n):
        b = bytearray()
        for _ in range(rng.randint(0, 10)):
            r = rng.random()
            if r < 0.4:
                b.append(rng.choice(specials))
            elif r < 0.7:
                b += rng.choice(["€", "😀", "é", "\u0800"]).encode()[: rng.randint(1, 4)]
            else:
                b += valid[rng.randint(0, len(valid) - 1):][: rng.randint(1, 3)]
        print(json.dumps({"hex": b.hex(), "text": bytes(b).decode("utf-8", "replace")}))


def files(dirs):
    for d in dirs:
        raw = open(os.path.join(d, "tokenizer.json"), "rb").read()
        t = json.loads(raw)
        tokens = set(t["model"]["vocab"]) | {a["content"] for a in t.get("added_tokens") or []}
        print(json.dumps({"dir": d, "sha256": hashlib.sha256(raw).hexdigest(), "vocab_size": len(tokens)}))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "nfc":
        nfc_cases(int(sys.argv[2]), int(sys.argv[3]))
    elif mode == "lossy":
        lossy_cases(int(sys.argv[2]), int(sys.argv[3]))
    elif mode == "files":
        files(sys.argv[2:])
    else:
        sys.exit("unknown mode " + mode)
