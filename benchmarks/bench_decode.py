#!/usr/bin/env python3
"""Decode benchmark: kda.decode against fla's fused_recurrent_kda (with
ssm_state_indices and the state updated in place, as vLLM serves it), on
the same inputs in one process on one card.

Serving step: N sequences of one token, H = HV = 32 heads, K = V = 128,
fp32 states in a pool of 2N slots, the softplus gate with l2norm and
sigmoid beta (Kimi-Linear's configuration). Medians of many calls after
warm-up (CUDA events). The floor is the state read and write (the other
bytes are noise next to it) over the device copy rate measured in the run.

Two timings per implementation: one Python call between CUDA events (what
an eager caller pays, launch overhead included) and, as servers run decode,
a CUDA graph of 20 calls replayed (the kernels' own time).

    python3 benchmarks/bench_decode.py [--iters N]
"""

import argparse
import pathlib
import statistics
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "runtime" / "python"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import torch  # noqa: E402

import kda  # noqa: E402
from bench_forward import copy_rate, time_ms  # noqa: E402


def graph_ms(fn, x, iters, calls=20):
    """Median per-call time of `calls` calls captured in one CUDA graph."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            fn(x)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(calls):
            fn(x)
    for _ in range(3):
        graph.replay()
    times = []
    for _ in range(iters):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        graph.replay()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / calls)
    return statistics.median(times)


def inputs(N, H=32, K=128, seed=0):
    gen = torch.Generator(device="cuda").manual_seed(seed)
    randn = lambda *shape: torch.randn(*shape, generator=gen, device="cuda")  # noqa: E731
    return dict(q=randn(N, H, K).bfloat16(), k=randn(N, H, K).bfloat16(),
                v=randn(N, H, K).bfloat16(), g=randn(N, H, K), beta=randn(N, H),
                A_log=torch.rand(H, generator=gen, device="cuda"),
                dt_bias=torch.rand(H * K, generator=gen, device="cuda"),
                pool=randn(2 * N, H, K, K) * 0.1,
                indices=torch.randperm(2 * N, generator=gen, device="cuda")[:N])


def run_kda(x):
    return kda.decode(x["q"], x["k"], x["v"], x["g"], x["beta"], x["pool"], x["indices"],
                      A_log=x["A_log"], dt_bias=x["dt_bias"], use_qk_l2norm_in_kernel=True,
                      use_gate_in_kernel=True, use_beta_sigmoid_in_kernel=True,
                      validate_indices=False)


def make_fla():
    try:
        from fla.ops.kda.fused_recurrent import fused_recurrent_kda_fwd
    except Exception as error:
        return None, f"fla unavailable ({type(error).__name__}: {error})"
    cu = {}

    def run(x):
        N = x["q"].shape[0]
        if N not in cu:
            cu[N] = torch.arange(N + 1, device="cuda", dtype=torch.int64)
        return fused_recurrent_kda_fwd(
            x["q"][None], x["k"][None], x["v"][None], x["g"][None], x["beta"][None],
            A_log=x["A_log"], dt_bias=x["dt_bias"], initial_state=x["pool"],
            inplace_final_state=True, cu_seqlens=cu[N], ssm_state_indices=x["indices"],
            use_qk_l2norm_in_kernel=True, use_gate_in_kernel=True,
            use_beta_sigmoid_in_kernel=True)
    return run, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=200)
    args = parser.parse_args()
    fla, note = make_fla()
    if note:
        print(note)
    rate = copy_rate()
    print(f"{torch.cuda.get_device_name(0)}; torch {torch.__version__}; copy rate "
          f"{rate / 1e12:.2f} TB/s; median of {args.iters} calls", flush=True)
    print(f"{'N':>5s} {'timing':>7s} {'kda ms':>8s} {'fla ms':>8s} {'kda/fla':>8s} "
          f"{'floor ms':>9s} {'kda/floor':>10s}")
    for N in (256, 64):
        x = inputs(N)
        floor = 2 * N * 32 * 128 * 128 * 4 / rate * 1e3
        for timing, measure in (("call", time_ms), ("graph", graph_ms)):
            t_kda = measure(run_kda, x, args.iters)
            t_fla = measure(fla, x, args.iters) if fla else float("nan")
            print(f"{N:5d} {timing:>7s} {t_kda:8.3f} {t_fla:8.3f} {t_kda / t_fla:8.2f} "
                  f"{floor:9.3f} {t_kda / floor:10.2f}", flush=True)


if __name__ == "__main__":
    main()
