#!/usr/bin/env bash
# The GPU suite, run on a machine with a Hopper GPU (the device machine) from
# a build made elsewhere: that machine has no MLIR, so the PTX, the kernel
# bundles, libkda and the C test binaries come in the carried build directory
# ($KDA_BUILD_DIR, default build/: lib, bundles, test/gpu). It runs the C
# runtime tests (test/gpu/test_gpu_smoke.c) and the forward suite
# (test/gpu/forward_suite.py; extra arguments go to it, e.g. --quick).
# Prints one line per test and a closing 'N passed, N failed'.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${KDA_BUILD_DIR:-$root/build}

passed=0 failed=0
run() { # name command...
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $name" >&2
  fi
}

nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
for t in device_is_hopper bad_ptx_reports_the_jit_log smoke_gemm_is_exact \
         bundle_errors_are_named; do
  run "test_gpu_smoke.$t" "$build/test/gpu/test_gpu_smoke" \
    "$build/test/gpu/smoke_gemm.ptx" \
    "$build/bundles/forward_k128_v128_precomputed_gf32_f32_kv.kdab" "$t"
done

export KDA_LIBRARY=$build/lib/libkda.so KDA_BUNDLE_DIR=$build/bundles
run forward_suite python3 "$root/test/gpu/forward_suite.py" "$@"

echo "gpu: $passed passed, $failed failed (forward_suite counts as one; its own"
echo "closing line above counts its cases)"
[ "$failed" -eq 0 ]
