#!/usr/bin/env bash
# The trainer's maths against an independent torch loop (check_train.py reference): every
# step takes all 24 examples (n_eval_examples=0, batch_size=24), so the logged loss must be
# the objective of the whole batch, the logged grad norm torch's clip_grad_norm_, and the
# parameters after 3 steps those of torch.optim (RMSprop; AdamW; warmup; clipping at 0.5).
# 2 ranks × 3 micro-batches each, so sharding and accumulation are part of what is checked.
source "$(dirname "$0")/train_common.sh"
ref=(/usr/bin/python3 "$RAM_SOURCE_DIR/tests/python/check_train.py" reference --model "$model"
     --data "$tmp/data.jsonl" --tokenizer "$tok_dir" --ram "$RAM_BIN" --steps 3 --warmup 2)
base=("${common[@]}" n_eval_examples=0 batch_size=24 n_epochs=3 gradient_accumulation_steps=3)
run() {  # run NAME ARGS...: a 2-rank training run into $tmp/NAME
  local name=$1; shift
  mpirun -np 2 --oversubscribe "$RAM_BIN" train "${base[@]}" "$@" "run_dir=$tmp/$name" >"$tmp/$name.log" 2>&1 ||
    { cat "$tmp/$name.log"; exit 1; }
}
run sft loss=sft lr=1e-3
"${ref[@]}" --run "$tmp/sft/train" --objective sft --lr 1e-3
run ram_sft loss=ram_sft loss.alpha=0.5 lr=2e-3 max_grad_norm=0.5
"${ref[@]}" --run "$tmp/ram_sft/train" --objective ram_sft --alpha 0.5 --lr 2e-3 --max-grad-norm 0.5
run adamw loss=sft optimizer=adamw lr=1e-3 train.zero1=true
"${ref[@]}" --run "$tmp/adamw/train" --objective sft --optimizer adamw --lr 1e-3
