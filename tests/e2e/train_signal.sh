#!/usr/bin/env bash
# Preemption = uninterrupted. A 2-rank `ram train` (10 steps, slowed by
# RAM_TRAIN_STEP_DELAY_MS) gets SIGUSR1 on rank 1 ALONE after its third step (what Slurm's
# `--signal=USR1@T` warning delivers, possibly at different moments per rank): both ranks
# must stop after the same step, write a checkpoint there, and exit 0 with the "resume=true"
# line; `resume=true` must then end bit-identical to an uninterrupted run (check_train.py).
source "$(dirname "$0")/train_common.sh"
args=("${common[@]}" loss=ram_sft train.zero1=true)
mpirun -np 2 --oversubscribe "$RAM_BIN" train "${args[@]}" "run_dir=$tmp/full" >"$tmp/full.log" 2>&1 ||
  { cat "$tmp/full.log"; exit 1; }
out="$tmp/sig"
RAM_TRAIN_STEP_DELAY_MS=500 setsid mpirun -np 2 --oversubscribe -x RAM_TRAIN_STEP_DELAY_MS \
  "$RAM_BIN" train "${args[@]}" "run_dir=$out" >"$tmp/sig.log" 2>&1 &
mpirun_pid=$!
for _ in $(seq 1 2400); do
  n=$(grep -c grad_norm "$out/train/metrics.jsonl" 2>/dev/null || true)
  [ "${n:-0}" -ge 3 ] && break
  kill -0 "$mpirun_pid" 2>/dev/null || break
  sleep 0.05
done
sent=0
for p in $(pgrep -f -- "bin/ram train .*run_dir=$out" | grep -v "^$mpirun_pid$" || true); do
  if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1"; then
    kill -USR1 "$p" && sent=1
  fi
done
[ "$sent" = 1 ] || { echo "FAIL: rank 1 not found to signal"; cat "$tmp/sig.log"; exit 1; }
rc=0
wait "$mpirun_pid" || rc=$?
[ "$rc" = 0 ] || { echo "FAIL: the signalled run exited $rc, not 0"; cat "$tmp/sig.log"; exit 1; }
grep -q "interrupted at step" "$tmp/sig.log" && grep -q "resume=true" "$tmp/sig.log" ||
  { echo "FAIL: no 'interrupted … resume=true' line"; cat "$tmp/sig.log"; exit 1; }
at=$(cat "$out/train/ckpt/LATEST")
[ "$at" != "step-10.h5" ] || { echo "FAIL: the run finished instead of stopping"; cat "$tmp/sig.log"; exit 1; }
n=${at#step-}
grep -q "interrupted at step ${n%.h5} of 10" "$tmp/sig.log" ||
  { echo "FAIL: LATEST $at is not the step the run stopped at"; cat "$tmp/sig.log"; exit 1; }
echo "stopped by SIGUSR1 at $at"
mpirun -np 2 --oversubscribe "$RAM_BIN" train "${args[@]}" resume=true "run_dir=$out" >"$tmp/resume.log" 2>&1 ||
  { cat "$tmp/resume.log"; exit 1; }
grep -q "resume: .*$at" "$tmp/resume.log" || { echo "FAIL: did not resume from $at"; cat "$tmp/resume.log"; exit 1; }
/usr/bin/python3 "$RAM_SOURCE_DIR/tests/python/check_train.py" equal "$tmp/full/train" "$out/train"
echo ok
