#!/usr/bin/env bash
# `ram pipeline` end to end on 2 ranks: an experiment file (written here) lists sample →
# train (ram_sft on the proposal samples) → export → generate (RAM par_kl: the trained
# aligner with the proposal) → eval, with a tiny llama as the proposal and the aligner's
# starting point. Checks: every stage ran and left its output (synth.h5, LATEST at the last
# step, an exported HF dir that `ram score` loads, outputs.json with one record per prompt,
# metrics.json over all of them), the summary table lists the stages; a second run finds
# the stages complete and redoes nothing; a third run with one more training epoch
# (n_epochs=2) resumes training from its checkpoint instead of starting over and re-exports.
source "$(dirname "$0")/train_common.sh"
cat >"$tmp/exp.yaml" <<YAML
name: pipe
run_dir: $tmp/runs/pipe
model:
  path: $model
  dtype: f32
dtype: f32
dataset:
  path: $tmp/data.jsonl
  id_key: id
defaults:
  - override /loss: ram_sft
sample:
  max_new_tokens: 6
  max_length: 40
  max_prompt_length: 24
  stop: []
  chunk_size: 8
train:
  data: synth
max_length: 40
max_prompt_length: 24
batch_size: 4
n_eval_examples: 4
eval_every: 8
lr: 1.0e-3
generate:
  max_new_tokens: 6
  stop: []
eval:
  judges: [length, overlap]
  primary: overlap.rouge_l
pipeline:
  stages: [sample, train, export, generate, eval]
  +generate: {verb: generate, set: ["generate.model=$tmp/runs/pipe/export", "generate.proposal=$model",
                                    generate.sample_mode=par_kl]}
  +eval: {verb: eval, set: []}
YAML
run() { mpirun -np 2 --oversubscribe "$RAM_BIN" pipeline "$tmp/exp.yaml" "$@" 2>&1; }
log=$(run) || { echo "$log"; exit 1; }
grep -q "| sample .*| ran" <<<"$log" && grep -q "| train .*| ran" <<<"$log" && grep -q "| export .*| ran" <<<"$log" ||
  { echo "FAIL: not every stage ran"; echo "$log"; exit 1; }
test -e "$tmp/runs/pipe/sample/synth.h5" || { echo "FAIL: no synth.h5"; exit 1; }
[ "$(cat "$tmp/runs/pipe/train/ckpt/LATEST")" = "step-5.h5" ] || { echo "FAIL: LATEST"; exit 1; }
echo '{"prompt": "\n\nHuman: one two\n\nAssistant: ", "response": "three"}' >"$tmp/score.jsonl"
out=$("$RAM_BIN" score --model "$tmp/runs/pipe/export" --input "$tmp/score.jsonl" 2>&1) ||
  { echo "FAIL: the exported model does not load"; echo "$out"; exit 1; }
/usr/bin/python3 - "$tmp/runs/pipe" <<'PY' || exit 1
import json, sys
out = json.load(open(sys.argv[1] + "/generate/outputs.json"))
m = json.load(open(sys.argv[1] + "/eval/metrics.json"))
assert len(out) == 24 and all("par_kl" in r["generator"] for r in out), "outputs.json"
assert m["n"] == 24 and "overlap" in m["judges"], "metrics.json"
PY
log=$(run) || { echo "$log"; exit 1; }
for s in sample train export generate; do
  grep -q "| $s .*| complete" <<<"$log" || { echo "FAIL: stage $s was redone"; echo "$log"; exit 1; }
done
# (generate would refuse its outputs from the older aligner: other settings; stop at export)
log=$(run n_epochs=2 "pipeline.stages=[sample, train, export]") || { echo "$log"; exit 1; }
grep -q "resume: .*step-5.h5" <<<"$log" || { echo "FAIL: training did not resume"; echo "$log"; exit 1; }
[ "$(cat "$tmp/runs/pipe/train/ckpt/LATEST")" = "step-10.h5" ] || { echo "FAIL: LATEST after resume"; exit 1; }
grep -q "| export .*| ran" <<<"$log" || { echo "FAIL: export not redone after training moved on"; echo "$log"; exit 1; }
echo ok
