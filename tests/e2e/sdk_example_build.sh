#!/usr/bin/env bash
# sdk_example_build.sh SRC BUILD PREFIX — configure and build an out-of-tree plugin against
# the installed package only (CMAKE_PREFIX_PATH = the install prefix, nothing else).
set -euo pipefail
src=$1 build=$2 prefix=$3
rm -rf "$build"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$src" -B "$build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build "$build" -j 2
test -f "$build/plugins/libram_dataset_counting.so"
echo "built $build/plugins/libram_dataset_counting.so against $prefix"
