#!/usr/bin/env bash
# A non-finite loss stops the run with one error line naming the step and the examples, and
# writes no checkpoint for it: the last good one stays LATEST.
#   1. RAM_TRAIN_TEST_NAN_AT_STEP=3 (checkpoint after every step): the error names step 3
#      and example ids; LATEST is still step-2.h5 and no step-3 file exists.
#   2. A real divergence (lr=1e30): the run stops with a non-finite error, not a crash.
source "$(dirname "$0")/train_common.sh"
expect=(/usr/bin/python3 "$RAM_SOURCE_DIR/tests/python/expect_one_error.py" --ranks-may-repeat)
args=("${common[@]}" loss=sft eval_every=4 do_first_eval=false)
RAM_TRAIN_TEST_NAN_AT_STEP=3 "${expect[@]}" --expect "non-finite loss at step 3" --expect "examples ex" \
  --expect "step-2.h5" -- mpirun -np 2 --oversubscribe -x RAM_TRAIN_TEST_NAN_AT_STEP \
  "$RAM_BIN" train "${args[@]}" "run_dir=$tmp/nan"
[ "$(cat "$tmp/nan/train/ckpt/LATEST")" = "step-2.h5" ] || { echo "FAIL: LATEST moved"; exit 1; }
test ! -e "$tmp/nan/train/ckpt/step-3.h5" || { echo "FAIL: a checkpoint was written for the bad step"; exit 1; }
"${expect[@]}" --expect "non-finite" -- "$RAM_BIN" train "${args[@]}" lr=1e30 "run_dir=$tmp/diverge"
echo ok
