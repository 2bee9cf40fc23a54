#!/usr/bin/env bash
# on_empty_prompt=skip: the empty prompt (example 11) has no rows and is counted; the rest is
# sampled as usual (2 ranks, checked by h5py). dataset.on_error=skip: a record with invalid
# UTF-8 is skipped by the dataset and counted in the summary and synth.h5.
EMPTY=1 source "$(dirname "$0")/sample_common.sh"
out=$(mpirun -np 2 --oversubscribe "$RAM_BIN" sample "${common[@]}" sample.on_empty_prompt=skip \
      sample.chunk_size=8 "sample.out=$tmp/skip.h5" 2>&1) || { echo "$out"; exit 1; }
grep -q "1 skipped as empty" <<<"$out" || { echo "FAIL: summary does not count the empty prompt"; echo "$out"; exit 1; }
"${check[@]}" --skipped 1 "$tmp/skip.h5"
out=$(mpirun -np 2 --oversubscribe "$RAM_BIN" sample "${common[@]}" dataset.on_error=skip \
      "dataset.path=$RAM_SOURCE_DIR/tests/e2e/fixtures/sample_bad_utf8.jsonl" "sample.out=$tmp/utf8.h5" 2>&1) \
  || { echo "$out"; exit 1; }
grep -q "1 malformed records skipped by the dataset" <<<"$out" || { echo "FAIL: skipped record not counted"; echo "$out"; exit 1; }
/usr/bin/python3 - "$tmp/utf8.h5" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
assert int(f.attrs["skipped_records"]) == 1 and int(f.attrs["samples"]) == 2, dict(f.attrs)
assert list(f["examples/index"][:]) == [0, 0]
PY
echo "ok"
