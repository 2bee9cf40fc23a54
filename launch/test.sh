#!/usr/bin/env bash
# launch/test.sh — bootstrap, build, and run every test (unit, MPI under mpirun -np 2, e2e).
#   ./launch/test.sh                 all tests
#   ./launch/test.sh -L unit         any extra arguments go to ctest (labels: unit, mpi, e2e)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${RAM_BUILD_DIR:-$here/build}
"$here/launch/bootstrap.sh"
cd "$build"
# Two cores: MPI tests declare PROCESSORS 2, so ctest never oversubscribes them.
ctest --output-on-failure --timeout 600 -j "${RAM_TEST_JOBS:-2}" "$@"
