#!/usr/bin/env python3
"""Run a command; pass when it exits non-zero and its output has exactly one line starting
with '[rank N] error:' (or 'error:'), which contains --expect. Used by ctest for the
bad-input tests: one clear error line, a non-zero exit, no crash (no signal death)."""
import argparse
import re
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--expect", action="append", default=[], help="substring the error line must contain")
ap.add_argument("--timeout", type=float, default=120)
ap.add_argument("--ranks-may-repeat", action="store_true",
                help="several ranks may report the same error: count lines equal up to the rank once")
ap.add_argument("cmd", nargs=argparse.REMAINDER)
a = ap.parse_args()
cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
try:
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=a.timeout)
except subprocess.TimeoutExpired:
    print(f"FAIL: command hung for {a.timeout}s: {' '.join(cmd)}")
    sys.exit(1)
out = p.stdout.decode("utf-8", "replace")
lines = [l for l in out.splitlines() if re.match(r"^(\[rank \d+\] )?error:", l)]
if a.ranks_may_repeat:
    seen, unique = set(), []
    for l in lines:
        key = re.sub(r"^\[rank \d+\] ", "", l)
        if key not in seen:
            seen.add(key)
            unique.append(l)
    lines = unique
problems = []
if p.returncode == 0:
    problems.append("exit code 0")
if p.returncode < 0 or p.returncode >= 128:
    problems.append(f"killed by a signal / crashed (exit {p.returncode})")
if len(lines) != 1:
    problems.append(f"{len(lines)} error lines, expected exactly 1")
for e in a.expect:
    if not any(e in l for l in lines):
        problems.append(f"no error line contains {e!r}")
if problems:
    print("FAIL: " + "; ".join(problems))
    print("---- output ----")
    print(out)
    sys.exit(1)
print("ok: exit", p.returncode, "|", lines[0])
