# Sourced by the `ram sample` e2e scripts: a tiny llama with GPT-2's tokenizer, a 40-prompt
# JSONL file (prompt 7 is far over max_prompt_length; with EMPTY=1 prompt 11 is empty), and
# the settings every run shares. Needs RAM_BIN, RAM_BINARY_DIR, RAM_SOURCE_DIR; sets $tmp.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tok_dir="$RAM_BINARY_DIR/tokenizers/gpt2"
model="$tmp/model"
"$RAM_BIN" make-tiny-model --arch llama --out "$model" --tokenizer "$tok_dir" --vocab 50304 \
  --hidden 32 --layers 2 --heads 2 --kv-heads 1 --intermediate 64 --max-positions 128 \
  --init-std 0.5 --seed 7 >/dev/null 2>&1
/usr/bin/python3 - "$tmp/data.jsonl" "${EMPTY:-0}" <<'PY'
import json, random, sys
random.seed(5)
words = "the cat sat on a mat and we all said hello world while it rained in spring".split()
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for i in range(40):
        n = 200 if i == 7 else random.randint(1, 12)
        p = " ".join(random.choice(words) for _ in range(n)) + f" #{i} é🙂"
        if sys.argv[2] == "1" and i == 11:
            p = ""
        f.write(json.dumps({"prompt": p, "chosen": f"gold {i}"}, ensure_ascii=False) + "\n")
PY
# On the command line a value is YAML: "\n\nHuman" needs YAML's double quotes.
common=("dataset.path=$tmp/data.jsonl" "model.path=$model" model.dtype=f32 seed=3
        sample.max_new_tokens=12 sample.max_length=64 sample.max_prompt_length=32
        'sample.stop=["e "]' sample.n=2 "run_dir=$tmp/run")
check=(/usr/bin/python3 "$RAM_SOURCE_DIR/tests/python/check_synth.py" --data "$tmp/data.jsonl"
       --tokenizer "$tok_dir" --n 2 --max-new-tokens 12 --max-length 64 --max-prompt-length 32
       --stop "e " --min-truncated 1)
