#!/usr/bin/env bash
# The Slurm CI test (issue 9): a private one-node Slurm (munged + slurmctld + slurmd, see
# cluster.sh) on this machine; everything is submitted through the real slurm/ scripts
# with the requests shrunk on the command line (2 tasks, no GPU, 2 GB):
#   1. slurm/submit.sh EXPERIMENT: the demo-sized pipeline (sample → train, afterok-chained)
#      on a tiny llama + fixture data; both jobs COMPLETED, synth.h5 and the final checkpoint
#      exist, each job log starts with the resolved command;
#   2. preemption: a slowed train job gets SIGUSR1 on its batch shell (what
#      --signal=B:USR1@300 delivers) → the ranks checkpoint and exit 0, the job requeues
#      itself, the requeued job resumes from that checkpoint and completes with parameters
#      and optimizer state bit-identical to the uninterrupted pipeline training;
#   3. `ram sweep` a 2 × 2 grid (loss.alpha × lr) as one job array (%2), all points
#      completed; `--only p001` resubmits one point alone; `ram report` → report.csv / .md
#      with 4 rows and the swept columns, and report.png;
#   4. a stage script run outside sbatch refuses with exit 2.
# Stops exactly the daemons it started (trap). Needs RAM_BIN, RAM_BINARY_DIR, RAM_SOURCE_DIR.
set -euo pipefail
src=$RAM_SOURCE_DIR
tmp=$(mktemp -d /tmp/ram-slurm-ci.XXXXXX)
cluster="$tmp/cluster"
ours=""  # set once SLURM_CONF points at the private cluster: never touch another Slurm's jobs
cleanup() {
  # This cluster's jobs first (their slurmstepd and ranks outlive slurmd), then its daemons.
  if [[ -n "$ours" ]]; then
    # shellcheck disable=SC2046  # one word per job id
    scancel --full $(squeue -h -o %i 2>/dev/null) 2>/dev/null || true
    for _ in $(seq 1 50); do [[ -z "$(squeue -h 2>/dev/null)" ]] && break; sleep 0.2; done
  fi
  "$src/tests/slurm/cluster.sh" stop "$cluster" || true
  [[ -n "${RAM_SLURM_KEEP:-}" ]] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
t0=$SECONDS
fail() { echo "FAIL: $*"; for f in "$tmp"/work/*.out "$cluster"/log/slurmctld.log; do [[ -f "$f" ]] && { echo "== $f"; tail -40 "$f"; }; done; exit 1; }

# 4. Outside sbatch: one clear line, exit 2 (no cluster needed).
rc=0; msg=$(env -u SLURM_JOB_ID bash "$src/slurm/train.sbatch" smoke 2>&1) || rc=$?
[[ $rc == 2 && "$msg" == *"must be submitted with sbatch"* ]] || fail "train.sbatch outside sbatch: rc $rc, '$msg'"

export RAM_SLURM_PORT=$(( 20000 + RANDOM % 20000 ))  # apart from any other Slurm here
eval "$("$src/tests/slurm/cluster.sh" start "$cluster")"
ours=1
echo "cluster up in $((SECONDS - t0)) s (SLURM_CONF=$SLURM_CONF)"
export RAM_HOME=$src RAM_BIN
export RAM_SBATCH_ARGS="--ntasks-per-node=2 --gpus-per-node=0 --cpus-per-task=1 --mem=2G --time=30"
read -r -a shrink <<<"$RAM_SBATCH_ARGS"
mkdir -p "$tmp/work"
cd "$tmp/work"

"$src/tests/e2e/train_fixture.sh" "$tmp/fx"
cat >"$tmp/ci.yaml" <<YAML
# The CI pipeline: sample a tiny llama on the fixture prompts, train on the samples.
name: ci
dtype: f32
seed: 5
max_length: 40
max_prompt_length: 24
batch_size: 4
n_eval_examples: 4
eval_batch_size: 2
eval_every: 8
lr: 1.0e-3
warmup_steps: 2
model: {path: $tmp/fx/model, dtype: f32}
dataset: {path: $tmp/fx/data.jsonl, prompt_key: prompt, chosen_key: chosen, rejected_key: rejected, id_key: id}
sample: {max_new_tokens: 6, chunk_size: 6, batch_size: 3}
train: {data: synth, bucket_mb: 0.01}
pipeline: {stages: [sample, train]}
YAML

# wait_jobs ID…: until every job has ended; fails on a job that did not complete (or that
# waits on a dependency that can never be met).
wait_jobs() {
  local id line state reason
  for id in "$@"; do
    for _ in $(seq 1 1500); do
      line=$(scontrol show job -o "$id" 2>/dev/null || true)
      state=$(grep -o 'JobState=[A-Z_]*' <<<"$line" | cut -d= -f2)
      reason=$(grep -o 'Reason=[A-Za-z_]*' <<<"$line" | cut -d= -f2)
      [[ "$reason" == DependencyNeverSatisfied ]] && fail "job $id waits on a failed dependency"
      case "$state" in
        COMPLETED) break ;;
        FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE) fail "job $id ended $state" ;;
      esac
      sleep 0.2
    done
    [[ "$state" == COMPLETED ]] || fail "job $id still $state after 5 min"
  done
}

# 1. The pipeline.
out=$("$src/slurm/submit.sh" "$tmp/ci.yaml") || fail "submit.sh: $out"
echo "$out"
ids=$(sed -n 's/^jobs: //p' <<<"$out")
[[ $(wc -w <<<"$ids") == 2 ]] || fail "submit.sh printed no 2 job ids"
wait_jobs $ids
# afterok: the train job started only once the sample job had ended.
sample_end=$(scontrol show job -o "${ids%% *}" | grep -o 'EndTime=[^ ]*' | cut -d= -f2)
train_start=$(scontrol show job -o "${ids##* }" | grep -o 'StartTime=[^ ]*' | cut -d= -f2)
[[ ! "$train_start" < "$sample_end" ]] || fail "train started ($train_start) before sample ended ($sample_end)"
test -f runs/ci/sample/synth.h5 || fail "no synth.h5"
[[ $(cat runs/ci/train/ckpt/LATEST) == step-5.h5 ]] || fail "train did not reach step 5"
for f in slurm-ram-ci-sample-*.out slurm-ram-ci-train-*.out; do
  grep -q "^ram-slurm: command: srun --mpi=pmix" "$f" || fail "$f does not start with the resolved command"
done
echo "pipeline: jobs $ids completed ($((SECONDS - t0)) s)"

# 2. Preemption: a slowed copy of the training, signalled after its second step.
RAM_TRAIN_STEP_DELAY_MS=1200 sbatch --parsable "${shrink[@]}" --job-name=ram-preempt \
  --output="$tmp/work/preempt-%j.out" "$src/slurm/train.sbatch" "$tmp/ci.yaml" \
  run_dir=runs/preempt train.synth=runs/ci/sample/synth.h5 >"$tmp/jid"
jid=$(cut -d';' -f1 <"$tmp/jid")
for _ in $(seq 1 900); do
  [[ $(grep -c grad_norm runs/preempt/train/metrics.jsonl 2>/dev/null || true) -ge 2 ]] && break
  sleep 0.2
done
scancel --signal=USR1 --batch "$jid" || fail "cannot signal job $jid (ended before its second step?)"
wait_jobs "$jid"  # RUNNING → (requeued) PENDING → RUNNING → COMPLETED
log="preempt-$jid.out"
grep -q "got SIGUSR1" "$log" || fail "the batch shell did not get SIGUSR1"
grep -q "train: interrupted at step [0-9]* of 5" "$log" || fail "train did not stop at a step"
grep -q "stopped (exit 0) after SIGUSR1; requeueing job $jid" "$log" || fail "the ranks did not exit 0, or the job did not requeue itself"
grep -q "restart 1" "$log" || fail "the job did not run again after the requeue"
at=$(sed -n 's/.*train: interrupted at step \([0-9]*\) of 5.*/\1/p' "$log" | head -1)
[[ "$at" -lt 5 ]] || fail "interrupted at step $at, not before the end"
grep -q "resume: .*step-$at.h5" "$log" || fail "the requeued job did not resume from step-$at.h5"
/usr/bin/python3 "$src/tests/python/check_train.py" equal runs/ci/train runs/preempt/train ||
  fail "preempted + resumed training differs from the uninterrupted one"
echo "preemption: stopped at step $at, requeued, resumed, identical result ($((SECONDS - t0)) s)"

# 3. A sweep as a job array, a single-point resubmission, the report.
cat >"$tmp/sweep.yaml" <<YAML
name: ci_sweep
experiment: $tmp/ci.yaml
verb: train
set: [train.data=dataset, loss=ram_sft, n_epochs=1]
grid:
  loss.alpha: [1.0e-4, 0.1]
  lr: [1.0e-3, 3.0e-3]
max_parallel: 2
sbatch: [--ntasks-per-node=1, --gpus-per-node=0, --cpus-per-task=1, --mem=1G, --time=30]
YAML
"$RAM_BIN" sweep "$tmp/sweep.yaml" --dry-run >"$tmp/dry.txt" 2>/dev/null || fail "sweep --dry-run: $(cat "$tmp/dry.txt")"
grep -q -- "--array=0-3%2" "$tmp/dry.txt" || fail "the dry run plans no --array=0-3%2: $(cat "$tmp/dry.txt")"
grep -q "p003: ram train .*loss.alpha=0.1 lr=3.0e-3 run_dir=runs/ci_sweep/p003 resume=true" "$tmp/dry.txt" ||
  fail "the dry run's point p003 is wrong: $(cat "$tmp/dry.txt")"
"$RAM_BIN" sweep "$tmp/sweep.yaml" >"$tmp/sweep.txt" 2>/dev/null || fail "ram sweep: $(cat "$tmp/sweep.txt")"
cat "$tmp/sweep.txt"
array=$(sed -n 's/.*array job \([0-9]*\).*/\1/p' "$tmp/sweep.txt")
[[ -n "$array" ]] || fail "ram sweep printed no array job id"
wait_jobs "${array}_0" "${array}_1" "${array}_2" "${array}_3"
"$RAM_BIN" sweep "$tmp/sweep.yaml" --status >"$tmp/status.txt" 2>/dev/null
[[ $(grep -c " completed" "$tmp/status.txt") == 4 ]] || fail "not 4 completed points: $(cat "$tmp/status.txt")"
"$RAM_BIN" sweep "$tmp/sweep.yaml" --only p001 >"$tmp/only.txt" 2>/dev/null || fail "--only: $(cat "$tmp/only.txt")"
again=$(sed -n 's/.*array job \([0-9]*\).*/\1/p' "$tmp/only.txt")
grep -q "\"job_id\": \"${again}_1\"" runs/ci_sweep/manifest.json || fail "p001's new job id is not in the manifest"
[[ $(grep -c "\"job_id\": \"${array}_" runs/ci_sweep/manifest.json) == 3 ]] || fail "--only touched other points"
wait_jobs "${again}_1"
grep -q "already complete" runs/ci_sweep/logs/1-"$again".out || fail "the resubmitted point did not find its run complete"
"$RAM_BIN" report runs/ci_sweep --out "$tmp/report" >"$tmp/report.txt" 2>&1 || fail "ram report: $(cat "$tmp/report.txt")"
csv="$tmp/report/report.csv"
[[ $(wc -l <"$csv") == 5 ]] || fail "report.csv has not 4 rows: $(cat "$csv")"
head -1 "$csv" | grep -q "^run,point,state,loss.alpha,lr,.*train/loss" || fail "report.csv header: $(head -1 "$csv")"
/usr/bin/python3 - "$csv" <<'PY' || fail "report.csv values"
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [r["point"] for r in rows] == ["p000", "p001", "p002", "p003"], rows
assert {(r["loss.alpha"], r["lr"]) for r in rows} == {("1.0e-4", "1.0e-3"), ("1.0e-4", "3.0e-3"), ("0.1", "1.0e-3"), ("0.1", "3.0e-3")}
assert all(r["state"] == "completed" and math.isfinite(float(r["train/loss"])) for r in rows), rows
assert len({r["train/loss"] for r in rows}) == 4, "the points trained alike"
PY
grep -q "| p003 | completed |" "$tmp/report/report.md" || fail "report.md lacks p003"
[[ $(head -c 8 "$tmp/report/report.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || fail "report.png is not a PNG"
echo "sweep: array $array, 4 points completed, p001 resubmitted alone ($again), report written ($((SECONDS - t0)) s)"
echo ok
