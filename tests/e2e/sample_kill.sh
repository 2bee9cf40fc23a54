#!/usr/bin/env bash
# Resume = uninterrupted. A 2-rank `ram sample` (20 chunks; RAM_SAMPLE_CHUNK_DELAY_MS slows
# each chunk) is interrupted twice before it ends:
#   1. SIGKILL to mpirun and both ranks once ≥ 3 part files exist;
#   2. rerun, then SIGKILL to rank 1 alone once ≥ 3 more exist (Open MPI ends the job);
# after each kill synth.h5 must not exist. One part file is then truncated (a damaged part
# must be deleted and redone), a rerun under other settings must refuse the parts with one
# error line, and the same command must finish with the contents of an uninterrupted run
# (check_synth.py, h5py) and remove the parts.
source "$(dirname "$0")/sample_common.sh"
args=("${common[@]}" sample.chunk_size=2 sample.batch_size=2)
mpirun -np 2 --oversubscribe "$RAM_BIN" sample "${args[@]}" "sample.out=$tmp/full/synth.h5" >/dev/null 2>&1
out="$tmp/kill/synth.h5"
count_parts() { (compgen -G "$out.parts/chunk-*.h5" || true) | wc -l; }

# interrupt WHO MIN: start the run slowed down, wait for MIN more parts, SIGKILL WHO (all | rank1).
interrupt() {
  local who=$1 want=$(( $(count_parts) + $2 ))
  RAM_SAMPLE_CHUNK_DELAY_MS=500 setsid mpirun -np 2 --oversubscribe -x RAM_SAMPLE_CHUNK_DELAY_MS \
    "$RAM_BIN" sample "${args[@]}" "sample.out=$out" >"$tmp/killed-$who.log" 2>&1 &
  local mpirun_pid=$!
  for _ in $(seq 1 2400); do  # up to 2 min for a loaded machine to start the run
    [ "$(count_parts)" -ge "$want" ] && break
    kill -0 "$mpirun_pid" 2>/dev/null || break
    sleep 0.05
  done
  # The ranks are the processes started by this run: found by this test's unique path.
  local ranks
  ranks=$(pgrep -f -- "bin/ram sample .*sample.out=$out" | grep -v "^$mpirun_pid$" || true)
  if [ "$who" = all ]; then
    kill -KILL $ranks "$mpirun_pid" 2>/dev/null || true
  else
    # Rank 1: the ram process whose environment says OMPI_COMM_WORLD_RANK=1.
    for p in $ranks; do
      if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1"; then
        kill -KILL "$p"
      fi
    done
  fi
  wait "$mpirun_pid" 2>/dev/null || true
  local parts
  parts=$(count_parts)
  echo "kill $who: $parts of 20 part files written"
  if [ "$parts" -lt 1 ] || [ "$parts" -ge 20 ]; then
    echo "FAIL: the kill did not land mid-way"; cat "$tmp/killed-$who.log"; exit 1
  fi
  test ! -e "$out" || { echo "FAIL: synth.h5 exists after the kill"; exit 1; }
  if pgrep -f -- "sample.out=$out" >/dev/null; then
    echo "FAIL: processes of the killed run are still alive"; exit 1
  fi
}
interrupt all 3
interrupt rank1 3

# Other settings must not reuse the parts.
/usr/bin/python3 "$RAM_SOURCE_DIR/tests/python/expect_one_error.py" --ranks-may-repeat \
  --expect "written under other settings" \
  -- mpirun -np 2 --oversubscribe "$RAM_BIN" sample "${args[@]}" "sample.out=$out" sample.temperature=0.7

# A damaged part: cut one file short; the resumed run must delete and redo it.
victim=$(compgen -G "$out.parts/chunk-*.h5" | head -1)
truncate -s 100 "$victim"
parts=$(( $(count_parts) - 1 ))
log=$(mpirun -np 2 --oversubscribe "$RAM_BIN" sample "${args[@]}" "sample.out=$out" 2>&1) || { echo "$log"; exit 1; }
grep -q "unreadable" <<<"$log" || { echo "FAIL: the damaged part was not reported"; echo "$log"; exit 1; }
grep -q "resuming: $parts of 20 chunks" <<<"$log" || { echo "FAIL: did not resume from $parts parts"; echo "$log"; exit 1; }
"${check[@]}" "$tmp/full/synth.h5" "$out"
test ! -e "$out.parts" || { echo "FAIL: parts directory left behind"; exit 1; }
echo "ok"
