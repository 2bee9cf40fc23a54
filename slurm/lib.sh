# shellcheck shell=bash
# slurm/lib.sh — sourced by the slurm/*.sbatch scripts: what every stage job does.
#
#   ram_slurm_run VERB [ARG…]   run `ram VERB ARG…` on the ranks of this allocation:
#     - refuses to run outside sbatch (SLURM_JOB_ID unset): one error line, exit 2;
#     - prints the resolved command first (launcher, binary, arguments, job, nodes, tasks);
#     - launches the ranks with `srun --mpi=pmix` (RAM_LAUNCHER=srun, the default) or
#       Open MPI's `mpirun` inside the allocation (RAM_LAUNCHER=mpirun);
#     - preemption: the scripts ask for `--signal=B:USR1@300`, i.e. the batch shell gets
#       SIGUSR1 300 s before the time limit. The shell forwards it (and SIGTERM) to the
#       launcher, and both srun and mpirun forward SIGUSR1 to every rank; `ram train` /
#       `ram sample` then finish the step / chunk, checkpoint, and exit 0. After a SIGUSR1
#       the job requeues itself (`scontrol requeue`; the scripts ask for --requeue) and the
#       requeued job resumes (train runs with resume=true; sample resumes from its parts).
#       (Without `B:` Slurm signals the job steps directly: with srun that reaches the
#       ranks, but with mpirun it hits Open MPI's daemons, not reliably the ranks.)
#       On SIGTERM (preemption) Slurm requeues the job itself.
#
# Site settings, all from the environment (sbatch exports it to the job):
#   RAM_HOME      the framework checkout (slurm/, configs/); default: the directory of the
#                 submitted script's parent (from `scontrol show job`), else SLURM_SUBMIT_DIR
#   RAM_BIN       the ram binary (default: $RAM_HOME/build/bin/ram)
#   RAM_WORKDIR   the directory the jobs run in; relative paths (runs/…) resolve there
#                 (default: SLURM_SUBMIT_DIR)
#   RAM_RUNS, RAM_MODELS, RAM_DATA   read by the configs (${env:…}): run, model, data roots
#   RAM_LAUNCHER  srun | mpirun (default srun)
#   RAM_SRUN_ARGS / RAM_MPIRUN_ARGS  extra launcher arguments (e.g. "--cpu-bind=cores")
#   RAM_STATE_FILE  when set (sweep points), the job writes its state there: running,
#                 completed, failed RC, requeued (read by `ram sweep --status`, `ram report`)
# Partition, account, QOS: sbatch's own flags or SBATCH_PARTITION / SBATCH_ACCOUNT /
# SBATCH_QOS in the environment (they override the scripts' #SBATCH lines).

ram_slurm_die() { echo "ram-slurm: error: $*" >&2; exit 2; }

ram_slurm_require_batch() {
  if [[ -z "${SLURM_JOB_ID:-}" ]]; then
    ram_slurm_die "$(basename "$0") must be submitted with sbatch, not run directly (SLURM_JOB_ID is not set): use slurm/submit.sh EXPERIMENT [k=v …] or sbatch $0 EXPERIMENT [k=v …]"
  fi
}

# The framework checkout. sbatch runs a copy of the script from slurmd's spool directory,
# so the script's own path says nothing: use RAM_HOME, or the submitted script's path.
ram_slurm_home() {
  if [[ -n "${RAM_HOME:-}" ]]; then echo "$RAM_HOME"; return; fi
  local cmd
  cmd=$(scontrol show job -o "$SLURM_JOB_ID" 2>/dev/null | grep -o 'Command=[^ ]*' | head -1 | cut -d= -f2-)
  if [[ -n "$cmd" && -f "$cmd" ]]; then (cd "$(dirname "$cmd")/.." && pwd); return; fi
  echo "${SLURM_SUBMIT_DIR:-$PWD}"
}

_ram_slurm_signal=""
_ram_slurm_child=""
_ram_slurm_forward() {
  local sig=$1
  [[ -z "$_ram_slurm_signal" || "$sig" == USR1 ]] && _ram_slurm_signal=$sig
  echo "ram-slurm: job $SLURM_JOB_ID got SIG$sig; forwarding it to the ranks (they checkpoint and stop)" >&2
  [[ -n "$_ram_slurm_child" ]] && kill -s "$sig" "$_ram_slurm_child" 2>/dev/null || true
}

_ram_slurm_state() {
  [[ -n "${RAM_STATE_FILE:-}" ]] || return 0
  mkdir -p "$(dirname "$RAM_STATE_FILE")" && echo "$* job=$SLURM_JOB_ID $(date -u +%FT%TZ)" >"$RAM_STATE_FILE" || true
}

ram_slurm_run() {
  ram_slurm_require_batch
  local verb=$1; shift
  RAM_HOME=$(ram_slurm_home); export RAM_HOME
  local bin=${RAM_BIN:-$RAM_HOME/build/bin/ram}
  [[ -x "$bin" ]] || ram_slurm_die "the ram binary $bin does not exist: build it (./launch/bootstrap.sh) or set RAM_BIN"
  export RAM_CONFIG_DIR=${RAM_CONFIG_DIR:-$RAM_HOME/configs}
  cd "${RAM_WORKDIR:-${SLURM_SUBMIT_DIR:-$PWD}}" || ram_slurm_die "cannot enter RAM_WORKDIR ${RAM_WORKDIR:-}"
  if [[ $(id -u) -eq 0 ]]; then  # Open MPI refuses root without these (containers, CI)
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
  local launcher=${RAM_LAUNCHER:-srun} cmd=() extra=()
  case "$launcher" in
    srun) read -r -a extra <<<"${RAM_SRUN_ARGS:-}"; cmd=(srun --mpi=pmix --kill-on-bad-exit=1 "${extra[@]}") ;;
    mpirun) read -r -a extra <<<"${RAM_MPIRUN_ARGS:-}"; cmd=(mpirun -np "${SLURM_NTASKS:-1}" --bind-to none "${extra[@]}") ;;
    *) ram_slurm_die "RAM_LAUNCHER=$launcher: expected srun or mpirun" ;;
  esac
  cmd+=("$bin" "$verb" "$@")
  echo "ram-slurm: job ${SLURM_JOB_ID}${SLURM_ARRAY_TASK_ID:+ (array task $SLURM_ARRAY_TASK_ID)}" \
       "restart ${SLURM_RESTART_COUNT:-0}, ${SLURM_JOB_NUM_NODES:-1} node(s) [${SLURM_JOB_NODELIST:-?}]," \
       "${SLURM_NTASKS:-1} task(s), in $PWD"
  echo "ram-slurm: command: ${cmd[*]}"
  _ram_slurm_state running
  trap '_ram_slurm_forward USR1' USR1
  trap '_ram_slurm_forward TERM' TERM
  "${cmd[@]}" &
  _ram_slurm_child=$!
  local rc=0
  # `wait` returns early (> 128) when a trapped signal arrives: wait again until it ends.
  while true; do
    wait "$_ram_slurm_child"; rc=$?
    kill -0 "$_ram_slurm_child" 2>/dev/null || break
  done
  trap - USR1 TERM
  # After the time-limit warning, requeue whatever the exit code: ranks still loading the
  # model when it came die by it (exit ≠ 0), and what is on disk is always a resume point.
  if [[ "$_ram_slurm_signal" == USR1 ]]; then
    echo "ram-slurm: $verb stopped (exit $rc) after SIGUSR1; requeueing job $SLURM_JOB_ID to resume"
    _ram_slurm_state requeued
    scontrol requeue "$SLURM_JOB_ID" || ram_slurm_die "scontrol requeue $SLURM_JOB_ID failed: resubmit this job to resume"
    exit 0
  fi
  if [[ $rc -eq 0 ]]; then
    _ram_slurm_state completed
  elif [[ -n "$_ram_slurm_signal" ]]; then
    _ram_slurm_state requeued  # preempted (SIGTERM): Slurm requeues the job itself
  else
    _ram_slurm_state failed "$rc"
  fi
  [[ $rc -eq 0 ]] || echo "ram-slurm: $verb failed with exit code $rc" >&2
  exit "$rc"
}
