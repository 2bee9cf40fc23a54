#!/usr/bin/env bash
# sdk_example_load.sh PREFIX PLUGIN_DIR — the installed `ram` finds the out-of-tree plugin
# through RAM_PLUGIN_PATH, lists it on 2 ranks, and reads examples from it.
set -euo pipefail
prefix=$1 plugins=$2
export RAM_PLUGIN_PATH=$plugins
out=$(mpirun -np 2 --oversubscribe "$prefix/bin/ram" plugins)
echo "$out"
grep -E "^dataset +counting +1\.0\.0 +$plugins/libram_dataset_counting\.so$" <<<"$out" >/dev/null \
  || { echo "FAIL: counting plugin not listed from $plugins"; exit 1; }
grep -E "^dataset +jsonl " <<<"$out" >/dev/null || { echo "FAIL: installed built-in plugins not listed"; exit 1; }
grep -q "(2 ranks)" <<<"$out" || { echo "FAIL: not run on 2 ranks"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpirun -np 2 --oversubscribe "$prefix/bin/ram" prepare dataset=null +dataset.name=counting \
  +dataset.size=25 prepare.out="$tmp/counting.h5"
"$prefix/bin/ram" inspect "$tmp/counting.h5" | tee "$tmp/inspect.txt"
grep -q "25 items" "$tmp/inspect.txt" || { echo "FAIL: expected 25 examples in the file"; exit 1; }
echo "ok: out-of-tree plugin listed and read through the installed ram"
