#!/usr/bin/env bash
# `ram make-tokenizer --bpe` against an independent trainer: dump the same demo examples with
# `ram prepare`, then tests/python/train_bpe_ref.py learns the merges itself and compares
# them (and the vocabulary) with the tokenizer the setup test wrote.
# Usage: tokenizer_bpe_reference.sh TOKENIZER_DIR MERGES [dataset overrides...]
set -euo pipefail
tok=$1; merges=$2; shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$RAM_BIN" prepare "$@" "prepare.out=$tmp/data.h5"
"$RAM_PYTHON" "$(dirname "$0")/../python/train_bpe_ref.py" "$tmp/data.h5" "$tok" "$merges"
