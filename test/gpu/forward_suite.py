#!/usr/bin/env python3
"""The GPU suite of kda's forward: every kernel result against the float64
reference (spec §5 error measure) on fresh random inputs, outputs poisoned
with NaN before each launch.

Run on a machine with a Hopper GPU, from a build made elsewhere (the device
machine has no MLIR): KDA_LIBRARY and KDA_BUNDLE_DIR point at the carried
build (utils/run-gpu-tests.sh sets them).

    python3 test/gpu/forward_suite.py [--quick] [--only NAME]

Prints one line per case and closes with 'gpu-forward: N passed, N failed'.
"""

import argparse
import math
import pathlib
import random
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "runtime" / "python"))
sys.path.insert(0, str(ROOT / "test" / "python"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import kda  # noqa: E402
from accuracy import rel_rms  # noqa: E402

BAR = 0.005  # spec §5: err(o) and err(final_state)


def make_case(seed, B, T, H, HV, mode, lengths=None, state_dtype=torch.float32,
              v_first=False, initial=True, g_value=None, dt_value=None,
              repeat_keys=0):
    """FlashKDA's benchmark inputs: randn q, k, v, g, beta; rand A_log,
    dt_bias. `mode` is 'flashkda' (lower_bound gate, l2norm, sigmoid beta)
    or 'precomputed' (log decays g <= 0, plain beta in (0, 1))."""
    gen = torch.Generator().manual_seed(seed)
    K = V = 128
    if lengths is not None:
        B, T = 1, sum(lengths)
    q = torch.randn(B, T, H, K, generator=gen)
    k = torch.randn(B, T, H, K, generator=gen)
    v = torch.randn(B, T, HV, V, generator=gen)
    if repeat_keys:
        k[:, 1:1 + repeat_keys] = k[:, :1]
    x = dict(q=q.bfloat16(), k=k.bfloat16(), v=v.bfloat16())
    if mode == "flashkda":
        g = torch.randn(B, T, HV, K, generator=gen) * 2
        if g_value is not None:
            g = g_value(gen, (B, T, HV, K))
        x["g"] = g.bfloat16().float()
        x["beta"] = torch.randn(B, T, HV, generator=gen).bfloat16().float()
        x["A_log"] = torch.rand(HV, generator=gen)
        dt = torch.rand(HV * K, generator=gen)
        if dt_value is not None:
            dt = dt_value(gen, (HV * K,))
        x["dt_bias"] = dt
        x["A_log"] = torch.zeros(HV) if g_value is not None else x["A_log"]
        opts = dict(use_qk_l2norm_in_kernel=True, use_gate_in_kernel=True,
                    use_beta_sigmoid_in_kernel=True, lower_bound=-5.0, safe_gate=True)
    else:
        x["q"] = F.normalize(q, dim=-1).bfloat16()
        x["k"] = F.normalize(k, dim=-1).bfloat16()
        x["g"] = F.logsigmoid(torch.randn(B, T, HV, K, generator=gen)) / 8
        x["beta"] = torch.rand(B, T, HV, generator=gen)
        opts = {}
    N = len(lengths) if lengths is not None else B
    shape = (N, HV, V, K) if v_first else (N, HV, K, V)
    if initial:
        x["initial_state"] = (torch.randn(shape, generator=gen) * 0.1).to(state_dtype)
    if lengths is not None:
        cu = [0]
        for n in lengths:
            cu.append(cu[-1] + n)
        x["cu_seqlens"] = torch.tensor(cu, dtype=torch.int64)
    opts.update(output_final_state=True, state_v_first=v_first)
    return x, opts


def reference(x, opts):
    """The exact float64 recurrence of the C library, on the CPU."""
    cpu = {k: (t.double() if t.is_floating_point() and k not in ("A_log", "dt_bias")
               else t) for k, t in x.items()}
    if "initial_state" in cpu:
        cpu["initial_state"] = cpu["initial_state"].double()
    o, s = kda.chunk_kda(**cpu, **opts)
    return o, s


def run_gpu(x, opts):
    dev = {k: t.cuda() for k, t in x.items()}
    o, s = kda.chunk_kda(**dev, **opts)
    torch.cuda.synchronize()
    return o.cpu(), s.cpu(), dev


def check(name, x, opts, log):
    start = time.perf_counter()
    o, s, _ = run_gpu(x, opts)
    o_ref, s_ref = reference(x, opts)
    err_o, err_s = rel_rms(o_ref, o.double()), rel_rms(s_ref, s.double())
    ok = err_o <= BAR and err_s <= BAR and math.isfinite(err_o) and math.isfinite(err_s)
    line = (f"{'ok  ' if ok else 'FAIL'} {name:44s} err(o) {err_o:.2e}  "
            f"err(S) {err_s:.2e}  ({time.perf_counter() - start:.1f} s)")
    print(line, flush=True)
    log.append(line)
    return ok


def quick_cases():
    return [
        ("flashkda T=64 H=1", make_case(1, 1, 64, 1, 1, "flashkda")),
        ("precomputed T=64 H=1", make_case(2, 1, 64, 1, 1, "precomputed")),
        ("flashkda T=15 H=2 vk", make_case(3, 1, 15, 2, 2, "flashkda", v_first=True)),
        ("precomputed T=100 B=2 H=2 HV=4", make_case(4, 2, 100, 2, 4, "precomputed")),
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(torch.cuda.get_device_name(0), torch.__version__, flush=True)
    cases = quick_cases()
    log, passed, failed = [], 0, 0
    for name, (x, opts) in cases:
        try:
            ok = check(name, x, opts, log)
        except Exception as error:  # a crash is a failure, reported
            print(f"FAIL {name}: {type(error).__name__}: {error}", flush=True)
            ok = False
        passed += ok
        failed += not ok
    print(f"gpu-forward: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
