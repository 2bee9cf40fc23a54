# Sourced by the `ram train` e2e scripts: a tiny llama with GPT-2's tokenizer, a 24-example
# JSONL file with prompt / chosen / rejected, and the settings every run shares (dataset
# responses, f32, short sequences). Needs RAM_BIN, RAM_BINARY_DIR, RAM_SOURCE_DIR; sets $tmp.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tok_dir="$RAM_BINARY_DIR/tokenizers/gpt2"
model="$tmp/model"
"$(dirname "${BASH_SOURCE[0]}")/train_fixture.sh" "$tmp"
common=("model.path=$model" dtype=f32 "dataset.path=$tmp/data.jsonl" dataset.rejected_key=rejected
        dataset.id_key=id train.data=dataset seed=5 max_length=40 max_prompt_length=24 lr=1e-3
        warmup_steps=2 n_eval_examples=4 eval_batch_size=3 batch_size=4 n_epochs=2 eval_every=8
        train.bucket_mb=0.01)
