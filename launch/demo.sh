#!/usr/bin/env bash
# launch/demo.sh — the main job on a bundled task, on 2 MPI ranks, everything under runs/demo/.
#
# Until the training and RAM-decoding stages land, this is the smoke pipeline over the pieces
# that exist: plugins found on 2 ranks → the `smoke` experiment composed → a JSONL dataset
# prepared collectively into one HDF5 file → inspected → read back by h5py → a tiny
# random-weight llama in HF format with a real tokenizer → tokenize, score and greedy
# generation on 2 ranks → proposal sampling into synth.h5 on 2 ranks → the BLAS kernels the
# runtime picked vs the generic ones.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${RAM_BUILD_DIR:-$here/build}
runs=${RAM_RUNS:-$here/runs}/demo
np=${RAM_NP:-2}
"$here/launch/bootstrap.sh"
export PATH="$build/bin:$PATH"
if [[ $(id -u) -eq 0 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# -q: Open MPI prints no notice of its own when a rank ends the job with our error line.
mpirun=(mpirun -q -np "$np" --oversubscribe)
mkdir -p "$runs"
step() { printf '\n== %s\n' "$*"; }

step "1. plugins on $np ranks"
"${mpirun[@]}" ram plugins

step "2. a bundled instruction dataset (seeded, alpaca-style JSONL with gold and rejected answers)"
data="$runs/data/arith.jsonl"
mkdir -p "$(dirname "$data")"
awk -v n=400 'BEGIN {
  srand(7);
  for (i = 0; i < n; i++) {
    a = int(rand() * 90) + 10; b = int(rand() * 90) + 10;
    printf "{\"id\": \"arith-%d\", \"instruction\": \"What is %d + %d?\", \"output\": \"%d\", \"rejected\": \"I am not sure, maybe %d.\"}\n", i, a, b, a + b, a + b + 1;
  }
}' > "$data"
echo "$(wc -l < "$data") examples in $data"

step "3. prepare on $np ranks: dataset plugin → one HDF5 file written collectively"
RAM_SMOKE_DATA="$data" "${mpirun[@]}" ram prepare smoke prepare.out="$runs/prepare/data.h5"

step "4. inspect"
ram inspect "$runs/prepare/data.h5"

step "5. read back with h5py (an independent reader)"
/usr/bin/python3 - "$runs/prepare/data.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    ex = f["examples"]
    off = ex["prompt_text_offsets"][:]
    text = ex["prompt_text"]
    n = len(off) - 1
    first = bytes(text[off[0]:off[1]]).decode()
    chosen = bytes(ex["chosen_text"][ex["chosen_text_offsets"][0]:ex["chosen_text_offsets"][1]]).decode()
    print(f"h5py: {n} examples; index[0..3] = {list(ex['index'][:4])}")
    print(f"h5py: prompt[0] = {first!r} -> chosen {chosen!r}")
    print(f"h5py: written by {f.attrs['world_size']} ranks, ram {f.attrs['ram_version']}")
PY

step "6. a tiny random-weight llama (HF directory, GPT-2 tokenizer), then tokenize, score and generate on $np ranks"
model="$runs/models/tiny_llama"
ram make-tiny-model --arch llama --out "$model" --force --tokenizer "$build/tokenizers/gpt2" \
  --hidden 64 --layers 2 --heads 4 --kv-heads 2 --intermediate 128 --rope-scaling llama3:8 --tied --seed 7
ls "$model"   # random weights: the scores and generations below are noise, the plumbing is real
printf '%s\n' '{"text": "\n\nHuman: What is 12 + 30?\n\nAssistant: "}' | ram tokenize --tokenizer "$model"
/usr/bin/python3 - "$runs/prepare/data.h5" "$runs/models/prompts.jsonl" <<'PY'
import json, sys, h5py
with h5py.File(sys.argv[1], "r") as f, open(sys.argv[2], "w") as out:
    ex = f["examples"]
    p, po = ex["prompt_text"], ex["prompt_text_offsets"][:]
    c, co = ex["chosen_text"], ex["chosen_text_offsets"][:]
    for i in range(4):
        out.write(json.dumps({"prompt": bytes(p[po[i]:po[i + 1]]).decode(),
                              "response": bytes(c[co[i]:co[i + 1]]).decode()}) + "\n")
PY
"${mpirun[@]}" ram score --model "$model" --input "$runs/models/prompts.jsonl" \
  --output "$runs/models/scores.jsonl"
cut -c1-100 "$runs/models/scores.jsonl"
"${mpirun[@]}" ram generate --model "$model" --greedy --max-new-tokens 8 \
  --input "$runs/models/prompts.jsonl" --output "$runs/models/generations.jsonl"
cat "$runs/models/generations.jsonl"

step "7. proposal sampling on $np ranks: the tiny llama samples 32 prompts into one synth.h5"
RAM_SMOKE_DATA="$data" "${mpirun[@]}" ram sample smoke model.path="$model" dataset.max_examples=32 \
  sample.max_new_tokens=8 sample.chunk_size=16 sample.out="$runs/sample/synth.h5"
ram inspect "$runs/sample/synth.h5" | grep -E "proposal_|finish_reason|index"

step "8. BLAS kernels as the runtime configures them vs the generic ones (2048² f32 matmul)"
bench_blas_gemm
echo
echo "demo: done; outputs under $runs"
