#!/usr/bin/env bash
# train_fixture.sh DIR: the `ram train` tests' inputs — DIR/model (a tiny llama with GPT-2's
# tokenizer) and DIR/data.jsonl (24 examples: prompt, chosen, rejected, id). Needs RAM_BIN,
# RAM_BINARY_DIR.
set -euo pipefail
tmp=$1
mkdir -p "$tmp"
tok_dir="$RAM_BINARY_DIR/tokenizers/gpt2"
model="$tmp/model"
"$RAM_BIN" make-tiny-model --arch llama --out "$model" --force --tokenizer "$tok_dir" --vocab 50304 \
  --hidden 32 --layers 2 --heads 2 --kv-heads 1 --intermediate 64 --max-positions 128 \
  --init-std 0.2 --seed 11 >/dev/null 2>&1
/usr/bin/python3 - "$tmp/data.jsonl" <<'PY'
import json, random, sys
random.seed(9)
words = "one two three four five six seven eight nine ten plus minus is equal".split()
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for i in range(24):
        p = "\n\nHuman: " + " ".join(random.choice(words) for _ in range(random.randint(2, 9))) + "\n\nAssistant: "
        c = " ".join(random.choice(words) for _ in range(random.randint(1, 8)))
        r = " ".join(random.choice(words) for _ in range(random.randint(1, 8)))
        f.write(json.dumps({"prompt": p, "chosen": c, "rejected": r, "id": f"ex{i}"}) + "\n")
PY
