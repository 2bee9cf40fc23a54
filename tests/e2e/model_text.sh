#!/bin/bash
# The text route of `ram score` / `ram generate`, end to end, with real tokenizers copied
# into a tiny llama by `make-tiny-model --tokenizer` (GPT-2's, and Llama-3's when present):
#   - text lines score exactly as the same lines written as ids (GPT-2: "Hello" = 15496,
#     " world" = 995, no special tokens; Llama-3: BOS 128000 before the prompt only), so
#     prompt and response were encoded as documented (prompt with add_special_tokens,
#     response without);
#   - generated "text" is the byte-level decoding of the generated ids (decoded again in
#     Python from tokenizer.json alone), and text prompts generate what their ids generate.
#   model_text.sh TOKENIZERS_DIR   (holding gpt2/ and optionally llama3/)
set -euo pipefail
root=$1
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
ram=${RAM_BIN:?RAM_BIN is set by ctest}
py=${RAM_PYTHON:-/usr/bin/python3}
cmp="$py $src/tests/python/compare_scores.py"
work=$(mktemp -d "${TMPDIR:-/tmp}/ram-text.XXXXXX")
trap 'rm -rf "$work"' EXIT

# check FAMILY VOCAB EOS 'text lines' 'id lines' 'generate text line' 'generate ids line'
check() {
  local fam=$1 vocab=$2 eos=$3 text=$4 ids=$5 gtext=$6 gids=$7 tok=$root/$1 m=$work/$1
  echo "== $fam"
  "$ram" make-tiny-model --arch llama --out "$m" --tokenizer "$tok" --hidden 32 --layers 1 \
    --heads 2 --kv-heads 1 --intermediate 64 --seed 3
  test -f "$m/tokenizer.json"
  $py - "$m" "$vocab" "$eos" <<'PY'
import json, sys
c = json.load(open(sys.argv[1] + "/config.json"))
g = json.load(open(sys.argv[1] + "/generation_config.json"))
assert c["vocab_size"] == int(sys.argv[2]), c["vocab_size"]
assert c["eos_token_id"] == int(sys.argv[3]) and g["eos_token_id"] == int(sys.argv[3]), (c, g)
PY
  # One run each, text lines first, then the same lines as ids (--batch-size 1: every line
  # alone, so equal inputs give byte-identical outputs).
  printf '%s\n%s\n' "$text" "$ids" > "$work/score.jsonl"
  "$ram" score --model "$m" --input "$work/score.jsonl" --output "$work/score_out.jsonl" --batch-size 1
  $py - "$work/score_out.jsonl" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
half = len(lines) // 2
assert lines[:half] == lines[half:], lines
print("score: text lines = id lines (%d)" % half)
PY
  printf '%s\n%s\n' "$gtext" "$gids" > "$work/gen.jsonl"
  "$ram" generate --model "$m" --greedy --max-new-tokens 8 --input "$work/gen.jsonl" \
    --output "$work/gen_out.jsonl" --batch-size 1
  $py - "$work/gen_out.jsonl" <<'PY'
import sys
a, b = open(sys.argv[1]).read().splitlines()
assert a == b, (a, b)
print("generate: text prompt = id prompt")
PY
  $cmp decode-check --tokenizer "$tok" --gen "$work/gen_out.jsonl"
  head -1 "$work/gen_out.jsonl"
}

check gpt2 50257 50256 \
  $'{"prompt": "Hello", "response": " world"}\n{"prompt": "The quick brown", "response": " fox"}' \
  $'{"prompt_ids": [15496], "response_ids": [995]}\n{"prompt_ids": [464, 2068, 7586], "response_ids": [21831]}' \
  '{"prompt": "Hello world"}' '{"prompt_ids": [15496, 995]}'
if [ -f "$root/llama3/tokenizer.json" ]; then
  check llama3 128256 128009 \
    '{"prompt": "Hello", "response": " world"}' \
    '{"prompt_ids": [128000, 9906], "response_ids": [1917]}' \
    '{"prompt": "Hello world"}' '{"prompt_ids": [128000, 9906, 1917]}'
fi
echo "ok"
