#!/usr/bin/env bash
# Data parallelism changes nothing but float summation order: the same global batch on 1
# rank, on 2 ranks, on 2 ranks with 2 micro-batches each and ZeRO-1, and on 1 rank with 4
# micro-batches ends with the same parameters (|Δ| ≤ 1e-5) and logs the same losses
# (relative 1e-5) — checked by h5py in tests/python/check_train.py. Objective: ram_sft.
source "$(dirname "$0")/train_common.sh"
args=("${common[@]}" loss=ram_sft loss.alpha=0.1)
"$RAM_BIN" train "${args[@]}" "run_dir=$tmp/r1" >"$tmp/r1.log" 2>&1 || { cat "$tmp/r1.log"; exit 1; }
mpirun -np 2 --oversubscribe "$RAM_BIN" train "${args[@]}" "run_dir=$tmp/r2" >"$tmp/r2.log" 2>&1 ||
  { cat "$tmp/r2.log"; exit 1; }
mpirun -np 2 --oversubscribe "$RAM_BIN" train "${args[@]}" gradient_accumulation_steps=2 train.zero1=true \
  "run_dir=$tmp/r2z" >"$tmp/r2z.log" 2>&1 || { cat "$tmp/r2z.log"; exit 1; }
"$RAM_BIN" train "${args[@]}" gradient_accumulation_steps=4 "run_dir=$tmp/r1g" >"$tmp/r1g.log" 2>&1 ||
  { cat "$tmp/r1g.log"; exit 1; }
grep -q "ZeRO-1" "$tmp/r2z.log" || { echo "FAIL: ZeRO-1 not reported"; cat "$tmp/r2z.log"; exit 1; }
/usr/bin/python3 "$RAM_SOURCE_DIR/tests/python/check_train.py" same --steps 10 --atol 1e-5 --rtol 1e-5 \
  "$tmp/r1/train" "$tmp/r2/train" "$tmp/r2z/train" "$tmp/r1g/train"
