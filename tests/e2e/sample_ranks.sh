#!/usr/bin/env bash
# `ram sample`: 1 rank = 3 ranks = 2 ranks with another batch_size give the same contents
# (ids, text, finish reasons exact; logprobs within 1e-4), checked by h5py against the source
# data, the decoded ids and `ram score`'s log-probs (tests/python/check_synth.py); rerunning a finished command does
# nothing; a different seed must make the checker fail.
source "$(dirname "$0")/sample_common.sh"
run() { local np=$1; shift; mpirun -np "$np" --oversubscribe "$RAM_BIN" sample "${common[@]}" "$@"; }
run 1 sample.batch_size=4 sample.chunk_size=8 "sample.out=$tmp/np1.h5"
run 3 sample.batch_size=4 sample.chunk_size=8 "sample.out=$tmp/np3.h5"
run 2 sample.batch_size=7 sample.chunk_size=8 "sample.out=$tmp/np2_b7.h5"
"${check[@]}" --score-with "$RAM_BIN" "$model" "$tmp/np1.h5" "$tmp/np3.h5" "$tmp/np2_b7.h5"
test ! -e "$tmp/np3.h5.parts" || { echo "FAIL: parts directory left behind"; exit 1; }
# The same command again: already complete, nothing redone.
out=$(run 2 sample.batch_size=4 sample.chunk_size=8 "sample.out=$tmp/np3.h5" 2>&1)
grep -q "already complete" <<<"$out" || { echo "FAIL: a finished run was not recognised"; echo "$out"; exit 1; }
# The checker can fail: another seed gives other samples.
run 2 sample.batch_size=4 sample.chunk_size=8 seed=4 "sample.out=$tmp/seed4.h5" >/dev/null 2>&1
if "${check[@]}" "$tmp/np1.h5" "$tmp/seed4.h5" >/dev/null; then
  echo "FAIL: checker accepted samples of another seed"; exit 1
fi
echo "ok"
