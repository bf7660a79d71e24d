#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for kda and builds it:
#   - Debian packages: LLVM/MLIR 22, cmake, ninja, ccache, a C/C++ compiler;
#   - a Python virtual environment with utils/requirements-test.txt
#     (at $KDA_VENV, default ~/.cache/kda/venv; reused while the pins hold);
#   - the build in $KDA_BUILD_DIR (default build/): kda-opt and libkda.
# Idempotent: each step is skipped when already done. Prints the venv's
# python path last, for the scripts that call it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${KDA_BUILD_DIR:-$root/build}
venv=${KDA_VENV:-$HOME/.cache/kda/venv}
packages=(cmake ninja-build ccache gcc g++ python3 python3-venv
          llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools)

log() { printf '[setup] %s\n' "$*" >&2; }

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi

requirements=$root/utils/requirements-test.txt
stamp=$venv/.kda-requirements
if ! cmp -s "$requirements" "$stamp" 2>/dev/null; then
  log "creating the Python environment in $venv (torch is large: minutes)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip >&2
  "$venv/bin/pip" install -q -r "$requirements" >&2
  cp "$requirements" "$stamp"
fi

if [ ! -f "$build/build.ninja" ]; then
  log "configuring $build"
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit >&2
fi
log "building"
ninja -C "$build" all mlir-doc >&2

echo "$venv/bin/python"
