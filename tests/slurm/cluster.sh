#!/usr/bin/env bash
# tests/slurm/cluster.sh start|stop DIR — a private one-node Slurm cluster on this machine
# (munged + slurmctld + slurmd, Debian's packages) for the Slurm tests; everything lives
# under DIR (config, keys, sockets, state, logs), nothing in /etc. See
# ../shared/slurm-local.md for what works here and the pitfalls.
#
#   start DIR   clean a stale DIR, write the config, start the daemons, wait until the node
#               is idle; prints `export SLURM_CONF=DIR/etc/slurm.conf` for the clients
#   stop DIR    stop exactly the daemons start recorded in DIR/run/*.pid (checking
#               /proc/PID/comm first); idempotent
# Ports: 6817/6818 on 127.0.0.1 by default; RAM_SLURM_PORT=N uses N and N+1.
set -euo pipefail
action=${1:?usage: cluster.sh start|stop DIR}
dir=${2:?usage: cluster.sh start|stop DIR}

stop() {
  local name pid comm
  for name in slurmd slurmctld munged; do
    [[ -f "$dir/run/$name.pid" ]] || continue
    pid=$(cat "$dir/run/$name.pid" 2>/dev/null || true)
    [[ -n "$pid" ]] || continue
    comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
    if [[ "$comm" == "$name" ]]; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do [[ -e "/proc/$pid" ]] || break; sleep 0.05; done
      [[ -e "/proc/$pid" ]] && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/run/$name.pid"
  done
}

if [[ "$action" == stop ]]; then stop; exit 0; fi
[[ "$action" == start ]] || { echo "cluster.sh: error: unknown action $action (start|stop)" >&2; exit 2; }
for b in munged mungekey slurmctld slurmd sinfo; do
  command -v "$b" >/dev/null || { echo "cluster.sh: error: $b not found: install munge slurmctld slurmd slurm-client (./launch/bootstrap.sh)" >&2; exit 2; }
done

[[ -d "$dir" ]] && { stop; rm -rf "$dir"; }
mkdir -p "$dir"/{etc,state,spool,log,run,munge}
chmod 0711 "$dir" "$dir/run"
chmod 0700 "$dir/munge"
host=$(hostname -s)
port=${RAM_SLURM_PORT:-6817}
mem=$(awk '/MemTotal/ {print int($2 / 1024) - 1024}' /proc/meminfo)
topo=$(slurmd -C | head -1 | sed -E 's/^NodeName=[^ ]+ //; s/ RealMemory=[0-9]+//')
mungekey --create --keyfile="$dir/munge/munge.key" --force >/dev/null 2>&1 ||
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$dir/munge/munge.key"
cat >"$dir/etc/slurm.conf" <<CONF
ClusterName=ramtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/run/munge.socket,cred_expire=5
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
MpiDefault=pmix
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
EnforcePartLimits=ALL
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
ReturnToService=2
# A requeued job may start again after cred_expire seconds (default 120): 5 for the tests.
KillWait=5
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 $topo RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/etc/slurm.conf"
munged --key-file="$dir/munge/munge.key" --socket="$dir/run/munge.socket" \
  --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed" --force
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 1 200); do
  state=$(sinfo -h -o %T 2>/dev/null | head -1 || true)
  [[ "$state" == idle ]] && break
  sleep 0.1
done
if [[ "$state" != idle ]]; then
  echo "cluster.sh: error: the node did not come up (state '${state:-none}'); logs in $dir/log" >&2
  tail -5 "$dir"/log/*.log >&2 || true
  stop; exit 1
fi
echo "export SLURM_CONF=$SLURM_CONF"
