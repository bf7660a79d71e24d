#!/usr/bin/env python3
"""Forward benchmark: kda against FlashKDA and fla's chunk_kda on the same
inputs, in one process on one card.

Inputs are FlashKDA's benchmark recipe (bf16, K = V = 128): q, k
l2-normalised randn; v, g, beta randn; A_log = rand(H); dt_bias = rand(H, K);
lower_bound = -5; fp32 initial and final states in the vk layout; the
lower_bound gate, l2norm and sigmoid beta fused in the kernel. Each
implementation is timed with CUDA events around each call after warm-up,
the calls queued back to back (the host running ahead, as in a model's
forward) or, with --synced, each waited for before the next (its host time
before the launch then counts); the median of many calls is reported.
Baselines are used when importable: FlashKDA's `flash_kda.fwd` and fla's
`chunk_kda` (with FLA_FLASH_KDA=0 and FLA_KDA=0, so that fla hands the call
neither to FlashKDA nor to kda).

    python3 benchmarks/bench_forward.py [--cases NAME,...] [--iters N] [--synced]

Prints, per case: ms of each implementation, kda's speed-up over each, the
fraction of the memory floor kda reaches (minimum bytes over the device
copy rate measured in the same run) and kda's error against the float64
recurrence.
"""

import argparse
import os
import pathlib
import statistics
import sys

os.environ.setdefault("FLA_FLASH_KDA", "0")
# `import kda` registers kda as a backend of fla's chunk_kda; the fla column
# must time fla's own Triton kernels, not kda through that registry.
os.environ.setdefault("FLA_KDA", "0")

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "runtime" / "python"))
sys.path.insert(0, str(ROOT / "test" / "python"))
sys.path.insert(0, str(ROOT / "test" / "gpu"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import kda  # noqa: E402

CASES = {
    "T8192_H96": dict(lengths=[8192], H=96),
    "T8192_H64": dict(lengths=[8192], H=64),
    "varlen6_H96": dict(lengths=[1300, 547, 2048, 963, 271, 3063], H=96),
    "varlen8x1024_H96": dict(lengths=[1024] * 8, H=96),
    "T65536_H16": dict(lengths=[65536], H=16),
    "T32768_H32": dict(lengths=[32768], H=32),
}


def inputs(lengths, H, seed=0):
    gen = torch.Generator(device="cuda").manual_seed(seed)
    T, K = sum(lengths), 128
    randn = lambda *shape: torch.randn(*shape, generator=gen, device="cuda")  # noqa: E731
    x = dict(
        q=F.normalize(randn(1, T, H, K), dim=-1).bfloat16(),
        k=F.normalize(randn(1, T, H, K), dim=-1).bfloat16(),
        v=randn(1, T, H, K).bfloat16(),
        g=randn(1, T, H, K).bfloat16(),
        beta=randn(1, T, H).bfloat16(),
        A_log=torch.rand(H, generator=gen, device="cuda"),
        dt_bias=torch.rand(H, K, generator=gen, device="cuda"),
        initial_state=randn(len(lengths), H, K, K) * 0.1,
    )
    cu = [0]
    for n in lengths:
        cu.append(cu[-1] + n)
    x["cu_seqlens"] = torch.tensor(cu, dtype=torch.int64, device="cuda")
    x["cu_seqlens_cpu"] = x["cu_seqlens"].cpu()
    return x


def run_kda(x):
    return kda.chunk_kda(
        x["q"], x["k"], x["v"], x["g"], x["beta"], initial_state=x["initial_state"],
        output_final_state=True, use_qk_l2norm_in_kernel=True, use_gate_in_kernel=True,
        use_beta_sigmoid_in_kernel=True, safe_gate=True, lower_bound=-5.0,
        state_v_first=True, cu_seqlens=x["cu_seqlens"], cu_seqlens_cpu=x["cu_seqlens_cpu"],
        A_log=x["A_log"], dt_bias=x["dt_bias"])


def make_fla():
    try:
        from fla.ops.kda import chunk_kda
    except Exception as error:  # not installed here
        return None, f"fla unavailable ({type(error).__name__}: {error})"

    def run(x):
        return chunk_kda(
            x["q"], x["k"], x["v"], x["g"], x["beta"], initial_state=x["initial_state"],
            output_final_state=True, use_qk_l2norm_in_kernel=True,
            use_gate_in_kernel=True, use_beta_sigmoid_in_kernel=True, safe_gate=True,
            lower_bound=-5.0, state_v_first=True, cu_seqlens=x["cu_seqlens"],
            cu_seqlens_cpu=x["cu_seqlens_cpu"], A_log=x["A_log"],
            dt_bias=x["dt_bias"].flatten())
    return run, None


def make_flashkda():
    try:
        import flash_kda
    except Exception as error:
        return None, f"FlashKDA unavailable ({type(error).__name__}: {error})"

    def run(x):
        out = torch.empty_like(x["v"])
        final = torch.empty_like(x["initial_state"])
        flash_kda.fwd(x["q"], x["k"], x["v"], x["g"], x["beta"], 128 ** -0.5, out,
                      x["A_log"], x["dt_bias"], -5.0, initial_state=x["initial_state"],
                      final_state=final, cu_seqlens=x["cu_seqlens"])
        return out, final
    return run, None


def time_ms(fn, x, iters, warmup=10, queued=False):
    """Median ms of `iters` calls, each between two CUDA events. Synced
    (queued=False): the host waits for each call before the next, so the
    GPU is idle when a call starts and the call's host time before its
    launch counts. Queued: the calls follow each other on the stream as in
    a model's forward, the host running ahead, so a call's time is its GPU
    time (its events, launch and kernels) and its host time is hidden while
    that is shorter."""
    for _ in range(warmup):
        fn(x)
    torch.cuda.synchronize()
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
              for _ in range(iters)]
    for start, end in events:
        start.record()
        fn(x)
        end.record()
        if not queued:
            end.synchronize()
    torch.cuda.synchronize()
    return statistics.median(start.elapsed_time(end) for start, end in events)


def copy_rate():
    """Device-to-device copy rate in bytes/s (read + write counted)."""
    a = torch.empty(2 << 30, dtype=torch.uint8, device="cuda")
    b = torch.empty_like(a)
    ms = time_ms(lambda _: b.copy_(a), None, 20, warmup=3)
    return 2 * a.numel() / (ms * 1e-3)


def min_bytes(lengths, H, K=128):
    T, N = sum(lengths), len(lengths)
    per_token = H * (3 * K * 2 + K * 2 + 2 + K * 2)  # q, k, v, g, beta read; o written
    return T * per_token + 2 * N * H * K * K * 4     # states read and written


def kda_error(x):
    """err(o), err(final_state) against the float64 recurrence."""
    from accuracy import rel_rms
    from forward_suite import reference_gpu
    o, s = run_kda(x)
    ref = {k: x[k].cpu() for k in ("q", "k", "v", "g", "beta", "A_log", "dt_bias",
                                   "initial_state", "cu_seqlens")}
    ref["g"], ref["beta"] = ref["g"].float(), ref["beta"].float()
    ref["dt_bias"] = ref["dt_bias"].flatten()
    opts = dict(use_qk_l2norm_in_kernel=True, use_gate_in_kernel=True,
                use_beta_sigmoid_in_kernel=True, lower_bound=-5.0, state_v_first=True)
    o_ref, s_ref = reference_gpu(ref, opts)
    return rel_rms(o_ref, o.cpu().double()), rel_rms(s_ref, s.cpu().double())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--no-error", action="store_true")
    parser.add_argument("--synced", action="store_true",
                        help="wait for each call before the next (host time counts)")
    args = parser.parse_args()
    queued = not args.synced

    fla, fla_note = make_fla()
    flash, flash_note = make_flashkda()
    for note in (fla_note, flash_note):
        if note:
            print(note)
    rate = copy_rate()
    print(f"{torch.cuda.get_device_name(0)}; torch {torch.__version__}; copy rate "
          f"{rate / 1e12:.2f} TB/s; median of {args.iters} calls, "
          f"{'synced' if args.synced else 'queued'}", flush=True)
    header = (f"{'case':18s} {'kda ms':>8s} {'FlashKDA':>9s} {'fla':>8s} {'vs FKDA':>8s} "
              f"{'vs fla':>7s} {'floor ms':>9s} {'of floor':>9s} {'err(o)':>9s} {'err(S)':>9s}")
    print(header)
    for name in args.cases.split(","):
        case = CASES[name]
        x = inputs(case["lengths"], case["H"])
        t_kda = time_ms(run_kda, x, args.iters, queued=queued)
        t_flash = time_ms(flash, x, args.iters, queued=queued) if flash else float("nan")
        t_fla = time_ms(fla, x, args.iters, queued=queued) if fla else float("nan")
        floor = min_bytes(case["lengths"], case["H"]) / rate * 1e3
        err_o, err_s = (float("nan"),) * 2 if args.no_error else kda_error(x)
        print(f"{name:18s} {t_kda:8.3f} {t_flash:9.3f} {t_fla:8.3f} {t_flash / t_kda:8.2f} "
              f"{t_fla / t_kda:7.2f} {floor:9.3f} {floor / t_kda:9.2f} {err_o:9.2e} "
              f"{err_s:9.2e}", flush=True)


if __name__ == "__main__":
    main()
