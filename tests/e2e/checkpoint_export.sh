#!/bin/bash
# Checkpoint → `ram export` → `ram score`, end to end (train/checkpoint.hpp).
#
#   checkpoint_export.sh DTYPE RANKS CKPT_WRITE_FAKE
# A tiny llama HF dir with GPT-2's tokenizer; ckpt_write_fake writes its checkpoint on RANKS
# ranks (ZeRO-1 shards when RANKS > 1); tests/python/check_checkpoint.py reads it with h5py
# against the dir's safetensors, config and tokenizer and the made-up optimizer state;
# `ram export` of the run dir (LATEST) must score exactly as the original dir (logprobs,
# token logprobs and top logits identical: the weights are bit-identical); config.json and
# the tokenizer files are byte-identical; export over the existing dir without --force is
# one error line and a non-zero exit, with --force (from the .h5 itself) it works.
set -euo pipefail
dtype=$1 ranks=$2 writer=$3
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
ram=${RAM_BIN:?RAM_BIN is set by ctest}
py=${RAM_PYTHON:-/usr/bin/python3}
cmp="$py $src/tests/python/compare_scores.py"
work=$(mktemp -d "${TMPDIR:-/tmp}/ram-ckpt-export.XXXXXX")
trap 'rm -rf "$work"' EXIT
m=$work/model run=$work/run out=$work/exported

step() { echo "== checkpoint_export $dtype $ranks: $*"; }
step make-tiny-model
"$ram" make-tiny-model --arch llama --out "$m" --dtype "$dtype" --seed 7 \
  --tokenizer "${RAM_BINARY_DIR:?}/tokenizers/gpt2" --vocab 50304 --hidden 32 --layers 2 \
  --heads 2 --kv-heads 1 --intermediate 64 --max-positions 128 --init-std 0.5

step "write the checkpoint on $ranks rank(s)"
if [ "$ranks" -gt 1 ]; then
  ${MPIEXEC:-mpirun} -np "$ranks" --oversubscribe "$writer" "$m" "$dtype" "$run"
else
  "$writer" "$m" "$dtype" "$run"
fi
ckpt=$run/ckpt/step-5.h5
test "$(cat "$run/ckpt/LATEST")" = step-5.h5

step "h5py reads it"
$py "$src/tests/python/check_checkpoint.py" --ckpt "$ckpt" --model "$m" --world-size "$ranks" \
  --fake-state

step "export (the run dir, through LATEST)"
"$ram" export "$run" --out "$out"
for f in config.json tokenizer.json tokenizer_config.json; do
  if [ -f "$m/$f" ]; then cmp "$m/$f" "$out/$f"; fi
done

step "score: exported dir = original dir, exactly"
$cmp make-inputs --model "$m" --seed 5 --score "$work/score.jsonl" --generate "$work/gen.jsonl"
"$ram" score --model "$m" --input "$work/score.jsonl" --output "$work/orig.jsonl" \
  --dtype "$dtype" --batch-size 4
"$ram" score --model "$out" --input "$work/score.jsonl" --output "$work/exported.jsonl" \
  --dtype "$dtype" --batch-size 4
$cmp scores --ram "$work/exported.jsonl" --ref "$work/orig.jsonl" --rtol 0 --atol 0

step "export over an existing dir: one error line without --force"
$py "$src/tests/python/expect_one_error.py" --expect "output directory exists and is not empty" \
  --expect "$out" --expect=--force -- "$ram" export "$run" --out "$out"
"$ram" export "$ckpt" --out "$out" --force
"$ram" score --model "$out" --input "$work/score.jsonl" --output "$work/forced.jsonl" \
  --dtype "$dtype" --batch-size 4
$cmp scores --ram "$work/forced.jsonl" --ref "$work/orig.jsonl" --rtol 0 --atol 0
echo "== checkpoint_export $dtype $ranks: ok"
