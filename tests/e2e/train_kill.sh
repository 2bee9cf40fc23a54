#!/usr/bin/env bash
# Resume = uninterrupted. A 2-rank `ram train` (10 steps, a checkpoint every 2) slowed by
# RAM_TRAIN_STEP_DELAY_MS is SIGKILLed (mpirun and both ranks) once a checkpoint exists and
# before the end; `resume=true` with the same command must end with bit-identical
# parameters and optimizer state, and the same metrics.jsonl, as an uninterrupted run.
source "$(dirname "$0")/train_common.sh"
args=("${common[@]}" loss=ram_sft train.zero1=true)
mpirun -np 2 --oversubscribe "$RAM_BIN" train "${args[@]}" "run_dir=$tmp/full" >"$tmp/full.log" 2>&1 ||
  { cat "$tmp/full.log"; exit 1; }
out="$tmp/kill"
RAM_TRAIN_STEP_DELAY_MS=700 setsid mpirun -np 2 --oversubscribe -x RAM_TRAIN_STEP_DELAY_MS \
  "$RAM_BIN" train "${args[@]}" "run_dir=$out" >"$tmp/killed.log" 2>&1 &
mpirun_pid=$!
for _ in $(seq 1 2400); do
  [ -e "$out/train/ckpt/LATEST" ] && break
  kill -0 "$mpirun_pid" 2>/dev/null || break
  sleep 0.05
done
sleep 0.8  # let it start the next step
ranks=$(pgrep -f -- "bin/ram train .*run_dir=$out" | grep -v "^$mpirun_pid$" || true)
kill -KILL $ranks "$mpirun_pid" 2>/dev/null || true
wait "$mpirun_pid" 2>/dev/null || true
test -e "$out/train/ckpt/LATEST" || { echo "FAIL: no checkpoint before the kill"; cat "$tmp/killed.log"; exit 1; }
at=$(cat "$out/train/ckpt/LATEST")
[ "$at" != "step-10.h5" ] || { echo "FAIL: the run finished before the kill"; exit 1; }
echo "killed after $at"
mpirun -np 2 --oversubscribe "$RAM_BIN" train "${args[@]}" resume=true "run_dir=$out" >"$tmp/resume.log" 2>&1 ||
  { cat "$tmp/resume.log"; exit 1; }
grep -q "resume: .*$at" "$tmp/resume.log" || { echo "FAIL: did not resume from $at"; cat "$tmp/resume.log"; exit 1; }
/usr/bin/python3 "$RAM_SOURCE_DIR/tests/python/check_train.py" equal "$tmp/full/train" "$out/train"
# Resuming a finished run does nothing.
mpirun -np 2 --oversubscribe "$RAM_BIN" train "${args[@]}" resume=true "run_dir=$out" 2>&1 | grep -q "already complete" ||
  { echo "FAIL: a finished run was not recognised"; exit 1; }
