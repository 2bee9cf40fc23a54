#!/usr/bin/env bash
# slurm/submit.sh [--dry-run] EXPERIMENT [k=v …] — submit an experiment's whole pipeline as
# one Slurm job per stage, each depending on the previous one (--dependency=afterok), and
# print the job ids.
#
# The stages are the experiment's `pipeline.stages` (`ram config EXPERIMENT`); stage S runs
# slurm/<pipeline.S.verb>.sbatch EXPERIMENT <pipeline.S.set …> <your k=v …>, so a stage's
# own overrides (e.g. a warm-up SFT's loss=sft train.out=…) come before yours.
#
# Environment:
#   RAM_BIN                 the ram binary (default: <checkout>/build/bin/ram); exported
#   RAM_SBATCH_ARGS         extra sbatch flags for every stage, e.g. "--partition=gpu --qos=high"
#   RAM_SBATCH_ARGS_<VERB>  extra sbatch flags for one verb's jobs (VERB upper-case: TRAIN,
#                           SAMPLE, GENERATE, EVAL, EXPORT), e.g. "--time=48:00:00"
#   RAM_AFTER               a job id the first stage waits for (afterok)
#   SBATCH_PARTITION, SBATCH_ACCOUNT, …  read by sbatch itself
#   RAM_HOME, RAM_WORKDIR, RAM_LAUNCHER, RAM_MODELS, RAM_DATA, RAM_RUNS: see slurm/lib.sh
# Output: one line per stage "STAGE VERB JOBID", then "jobs: ID ID …" (the last one is the
# pipeline's end: `--dependency=afterok:<it>` chains more work after it).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dry=0
if [[ "${1:-}" == --dry-run ]]; then dry=1; shift; fi
if [[ $# -lt 1 || "$1" == -h || "$1" == --help ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2
fi
experiment=$1; shift
export RAM_HOME=${RAM_HOME:-$here}
export RAM_BIN=${RAM_BIN:-$RAM_HOME/build/bin/ram}
export RAM_CONFIG_DIR=${RAM_CONFIG_DIR:-$RAM_HOME/configs}
[[ -x "$RAM_BIN" ]] || { echo "submit: error: the ram binary $RAM_BIN does not exist: build it (./launch/bootstrap.sh) or set RAM_BIN" >&2; exit 2; }
command -v sbatch >/dev/null || [[ $dry == 1 ]] || { echo "submit: error: sbatch not found: run this on a Slurm login node" >&2; exit 2; }

# The stage plan, from the resolved config: lines "STAGE<TAB>VERB<TAB>override<TAB>…".
errf=$(mktemp); trap 'rm -f "$errf"' EXIT
resolved=$("$RAM_BIN" config "$experiment" "$@" 2>"$errf") || { grep -v '^\[.*\] info' "$errf" >&2; exit 2; }
plan=$(/usr/bin/env python3 -c '
import sys, yaml
cfg = yaml.safe_load(sys.stdin) or {}
p = cfg.get("pipeline") or {}
stages = p.get("stages") or []
if not stages:
    sys.exit("submit: error: the experiment lists no pipeline.stages: set them in its config (e.g. [sample, train, generate, eval]) or on the command line")
for s in stages:
    st = p.get(s)
    if not isinstance(st, dict) or not st.get("verb"):
        sys.exit(f"submit: error: pipeline stage {s!r} is not defined (pipeline.{s}: {{verb: …, set: […]}})")
    print("\t".join([s, st["verb"]] + [str(x) for x in (st.get("set") or [])]))
' <<<"$resolved")

ids=()
dep=${RAM_AFTER:-}
job_base=$(basename "$experiment" .yaml)  # an experiment may be a path: job names hold no /
while IFS=$'\t' read -r -a row; do
  stage=${row[0]} verb=${row[1]}
  script="$RAM_HOME/slurm/$verb.sbatch"
  [[ -f "$script" ]] || { echo "submit: error: no sbatch script for verb '$verb' (stage $stage): expected $script" >&2; exit 2; }
  extra_var="RAM_SBATCH_ARGS_${verb^^}"
  # shellcheck disable=SC2206  # flags are words by design
  flags=(--parsable --job-name="ram-$job_base-$stage" ${RAM_SBATCH_ARGS:-} ${!extra_var:-})
  [[ -n "$dep" ]] && flags+=(--dependency="afterok:$dep" --kill-on-invalid-dep=yes)
  cmd=(sbatch "${flags[@]}" "$script" "$experiment" "${row[@]:2}" "$@")
  if [[ $dry == 1 ]]; then
    printf '%q ' "${cmd[@]}"; echo
    id="DRY-$stage"
  else
    out=$("${cmd[@]}") || { echo "submit: error: sbatch failed for stage $stage (jobs so far: ${ids[*]:-none})" >&2; exit 1; }
    id=${out%%;*}
  fi
  echo "$stage $verb $id"
  ids+=("$id")
  dep=$id
done <<<"$plan"
echo "jobs: ${ids[*]}"
