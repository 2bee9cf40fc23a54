#!/usr/bin/env bash
# launch/bootstrap.sh — everything a fresh Debian 12 machine needs, then a Release build.
#   ./launch/bootstrap.sh            install what is missing (quiet when all is present), build
#   RAM_BUILD_DIR=dir                build directory (default: build)
#   RAM_SKIP_INSTALL=1               do not touch packages (e.g. no root)
#   RAM_JOBS=n                       parallel compile jobs (default: nproc)
# Idempotent: a second run installs nothing and rebuilds only what changed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${RAM_BUILD_DIR:-$here/build}
jobs=${RAM_JOBS:-$(nproc)}

packages=(
  g++ cmake ninja-build ccache pkg-config git
  libtorch-dev python3-torch libopenblas0-pthread
  libopenmpi-dev openmpi-bin libhdf5-openmpi-dev
  libboost-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libpcre2-dev libgtest-dev libgmock-dev zlib1g-dev  # zlib: the dataset plugins read .gz
  python3-h5py python3-numpy
  # Slurm (the slurm/ scripts' test runs a private one-node cluster) and `ram report`'s plot
  munge slurmctld slurmd slurm-client libpmix-dev python3-yaml python3-matplotlib
)
# The tokenizer parity test runs HuggingFace's official Node binding (npm `tokenizers`).
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ "${RAM_SKIP_INSTALL:-0}" == 1 ]]; then
    echo "bootstrap: error: missing packages: ${missing[*]} (RAM_SKIP_INSTALL=1); install them with apt-get" >&2
    exit 1
  fi
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "bootstrap: installing ${#missing[@]} packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# LibTorch multiplies through libblas.so.3: it must be OpenBLAS, not the reference BLAS.
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
if [[ "$blas" != *openblas* ]]; then
  echo "bootstrap: warning: libblas.so.3 is $blas, not OpenBLAS; matrix products will be ~10x slower" >&2
  echo "bootstrap:   fix: update-alternatives --set libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3" >&2
fi

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$here" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
fi
cmake --build "$build" -j "$jobs" | { grep -v -E '^\[[0-9/ ]+\] (Building|Linking|Generating)|^-- ' || true; }
echo "bootstrap: built $build (bin/ram, lib/ram/plugins)"
