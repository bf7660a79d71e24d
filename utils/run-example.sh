#!/usr/bin/env bash
# Sets up (utils/setup.sh), then runs the embedded default:
# examples/default.mlir through kda-opt and the C reference.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=$("$root/utils/setup.sh")
KDA_LIBRARY="${KDA_BUILD_DIR:-$root/build}/lib/libkda.so" \
  "$python" "$root/examples/run_default.py" \
  --kda-opt "${KDA_BUILD_DIR:-$root/build}/bin/kda-opt" "$@"
