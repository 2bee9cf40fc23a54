#!/usr/bin/env bash
# Preemption = uninterrupted. A 2-rank `ram sample` (20 chunks, slowed by
# RAM_SAMPLE_CHUNK_DELAY_MS) gets SIGUSR1 through mpirun (which forwards it to the ranks,
# as it does under Slurm) once ≥ 3 part files exist: it must exit 0 with "interrupted;
# rerun … to resume", keep its part files and write no synth.h5; the same command then
# resumes from the parts and ends equal to an uninterrupted run (check_synth.py).
source "$(dirname "$0")/sample_common.sh"
args=("${common[@]}" sample.chunk_size=2 sample.batch_size=2)
mpirun -np 2 --oversubscribe "$RAM_BIN" sample "${args[@]}" "sample.out=$tmp/full/synth.h5" >/dev/null 2>&1
out="$tmp/sig/synth.h5"
count_parts() { (compgen -G "$out.parts/chunk-*.h5" || true) | wc -l; }
RAM_SAMPLE_CHUNK_DELAY_MS=400 setsid mpirun -np 2 --oversubscribe -x RAM_SAMPLE_CHUNK_DELAY_MS \
  "$RAM_BIN" sample "${args[@]}" "sample.out=$out" >"$tmp/sig.log" 2>&1 &
mpirun_pid=$!
for _ in $(seq 1 2400); do
  [ "$(count_parts)" -ge 3 ] && break
  kill -0 "$mpirun_pid" 2>/dev/null || break
  sleep 0.05
done
kill -USR1 "$mpirun_pid"
rc=0
wait "$mpirun_pid" || rc=$?
[ "$rc" = 0 ] || { echo "FAIL: the signalled run exited $rc, not 0"; cat "$tmp/sig.log"; exit 1; }
grep -q "interrupted; rerun the same command to resume" "$tmp/sig.log" ||
  { echo "FAIL: no 'interrupted; rerun' line"; cat "$tmp/sig.log"; exit 1; }
parts=$(count_parts)
echo "stopped by SIGUSR1 with $parts of 20 part files"
if [ "$parts" -lt 3 ] || [ "$parts" -ge 20 ]; then echo "FAIL: did not stop mid-way"; cat "$tmp/sig.log"; exit 1; fi
test ! -e "$out" || { echo "FAIL: synth.h5 was merged by an interrupted run"; exit 1; }
log=$(mpirun -np 2 --oversubscribe "$RAM_BIN" sample "${args[@]}" "sample.out=$out" 2>&1) || { echo "$log"; exit 1; }
grep -q "resuming: $parts of 20 chunks" <<<"$log" || { echo "FAIL: did not resume from $parts parts"; echo "$log"; exit 1; }
"${check[@]}" "$tmp/full/synth.h5" "$out"
echo ok
