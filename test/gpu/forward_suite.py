#!/usr/bin/env python3
"""The GPU suite of kda's forward: every kernel result against the float64
reference (spec §5 error measure) on fresh random inputs, outputs poisoned
with NaN before each launch.

Run on a machine with a Hopper GPU, from a build made elsewhere (the device
machine has no MLIR): KDA_LIBRARY and KDA_BUNDLE_DIR point at the carried
build (utils/run-gpu-tests.sh sets them).

    python3 test/gpu/forward_suite.py [--quick] [--seed N] [--only SUBSTRING]

Prints one line per case and closes with 'gpu-forward: N passed, N failed'.
"""

import argparse
import contextlib
import math
import os
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


class PoisonedTorch:
    """torch as the front sees it, except that torch.empty fills what it
    returns with NaN (floats) or 0xFF bytes (a workspace, where they read
    as NaN in bf16 and f32): a kernel that leaves any output or
    intermediate unwritten then fails the error measure."""

    def __getattr__(self, name):
        return getattr(torch, name)

    @staticmethod
    def empty(*args, **kwargs):
        tensor = torch.empty(*args, **kwargs)
        if tensor.is_floating_point():
            return tensor.fill_(math.nan)
        return tensor.fill_(0xFF if tensor.dtype == torch.uint8 else -1)


BUNDLES_RUN = []  # the path of every bundle the front launched, in order


def install_checks():
    """The suite's view of the front: poisoned outputs (PoisonedTorch) and
    every bundle launched recorded in BUNDLES_RUN. Installed by main()
    only, so that importing this module (the benchmark does, for the
    reference) changes nothing."""
    load = kda._gpu._bundle

    def recording(device_index, path):
        BUNDLES_RUN.append(str(path))
        return load(device_index, path)

    kda._gpu.torch = PoisonedTorch()
    kda._gpu._bundle = recording


@contextlib.contextmanager
def environment(name, value):
    """Within: $name = value (unchanged when value is None), restored after."""
    saved = os.environ.get(name)
    if value is not None:
        os.environ[name] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


def forced_chunk_size(size):
    """Within: $KDA_CHUNK_SIZE = size (the front then takes the bundles of
    that chunk size)."""
    return environment("KDA_CHUNK_SIZE", str(size))


def forced_segment_scan(forced=True):
    """Within: $KDA_SEGMENT_SCAN = 1 (the front then takes the segment scan
    below its length rule) when `forced`."""
    return environment("KDA_SEGMENT_SCAN", "1" if forced else None)


def make_case(seed, B, T, H, HV, mode, lengths=None, state_dtype=torch.float32,
              v_first=False, initial=True, g_value=None, dt_value=None,
              repeat_keys=0, head=128, gate_dtype=torch.float32, value_head=None):
    """FlashKDA's benchmark inputs: randn q, k, v, g, beta; rand A_log,
    dt_bias. `mode` is 'flashkda' (lower_bound gate, l2norm, sigmoid beta),
    'softplus' (Kimi-Linear-48B's unbounded gate, A_log = log U(1, 16) as
    fla's model initialises it, l2norm, sigmoid beta) or 'precomputed' (log
    decays g <= 0, plain beta in (0, 1)). g and beta hold bf16 values
    either way; gate_dtype=torch.bfloat16 passes them as bf16 (as FlashKDA's
    callers do), which selects the gbf16 kernels, among them the only
    clusters with helper CTAs. Value heads are `head` wide unless
    `value_head` says otherwise."""
    gen = torch.Generator().manual_seed(seed)
    K, V = head, value_head or head
    if lengths is not None:
        B, T = 1, sum(lengths)
    q = torch.randn(B, T, H, K, generator=gen)
    k = torch.randn(B, T, H, K, generator=gen)
    v = torch.randn(B, T, HV, V, generator=gen)
    if repeat_keys:
        k[:, 1:1 + repeat_keys] = k[:, :1]
    x = dict(q=q.bfloat16(), k=k.bfloat16(), v=v.bfloat16())
    if mode in ("softplus", "flashkda"):
        g = torch.randn(B, T, HV, K, generator=gen) * 2
        if g_value is not None:
            g = g_value(gen, (B, T, HV, K))
        x["g"] = g.bfloat16().to(gate_dtype)
        x["beta"] = torch.randn(B, T, HV, generator=gen).bfloat16().to(gate_dtype)
        # A_log: fla's model initialisation (softplus) or FlashKDA's recipe;
        # zero under a stress gate, so that g alone sets the decay.
        a_log = (torch.empty(HV).uniform_(1, 16, generator=gen).log() if mode == "softplus"
                 else torch.rand(HV, generator=gen))
        x["A_log"] = torch.zeros(HV) if g_value is not None else a_log
        dt = torch.rand(HV * K, generator=gen)
        if dt_value is not None:
            dt = dt_value(gen, (HV * K,))
        x["dt_bias"] = dt
        opts = dict(use_qk_l2norm_in_kernel=True, use_gate_in_kernel=True,
                    use_beta_sigmoid_in_kernel=True)
        if mode == "flashkda":
            opts.update(lower_bound=-5.0, safe_gate=True)
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


def reference_gpu(x, opts):
    """The recurrence of spec §2 in float64 on the GPU, token by token,
    for the cases too large for the CPU reference. Checked against the C
    reference by the 'reference agreement' case."""
    dev = torch.device("cuda")
    f64 = lambda t: t.to(dev, torch.float64)  # noqa: E731
    q, k, v, g, beta = (f64(x[n]) for n in ("q", "k", "v", "g", "beta"))
    B, T, H, K = q.shape
    HV, V = v.shape[2], v.shape[3]
    if opts.get("use_qk_l2norm_in_kernel"):
        q = q / torch.sqrt((q * q).sum(-1, keepdim=True) + 1e-6)
        k = k / torch.sqrt((k * k).sum(-1, keepdim=True) + 1e-6)
    q = q * (K ** -0.5)
    group = HV // H
    q, k = q.repeat_interleave(group, 2), k.repeat_interleave(group, 2)
    if opts.get("use_gate_in_kernel"):
        a = torch.exp(f64(x["A_log"]))[:, None] if "A_log" in x else 1.0
        raw = g + f64(x["dt_bias"]).view(HV, K) if "dt_bias" in x else g
        if opts.get("lower_bound") is None:
            g = -a * F.softplus(raw)
        else:
            g = opts["lower_bound"] * torch.sigmoid(a * raw)
    if opts.get("use_beta_sigmoid_in_kernel"):
        beta = torch.sigmoid(beta) * (2.0 if opts.get("allow_neg_eigval") else 1.0)
    decay = torch.exp(g)
    if "cu_seqlens" in x:
        cu = x["cu_seqlens"].tolist()
        spans = [(0, cu[n], cu[n + 1]) for n in range(len(cu) - 1)]
    else:
        spans = [(b, 0, T) for b in range(B)]
    v_first = opts.get("state_v_first", False)
    o = torch.zeros(B, T, HV, V, dtype=torch.float64, device=dev)
    finals = []
    for n, (b, t0, t1) in enumerate(spans):
        if "initial_state" in x:
            S = f64(x["initial_state"][n])
            S = S.transpose(-1, -2) if v_first else S
        else:
            S = torch.zeros(HV, K, V, dtype=torch.float64, device=dev)
        S = S.clone()
        for t in range(t0, t1):
            S = S * decay[b, t][:, :, None]
            err = v[b, t] - torch.einsum("hkv,hk->hv", S, k[b, t])
            S = S + torch.einsum("hk,hv->hkv", k[b, t], beta[b, t][:, None] * err)
            o[b, t] = torch.einsum("hkv,hk->hv", S, q[b, t])
        finals.append(S.transpose(-1, -2) if v_first else S)
    return o.cpu(), torch.stack(finals).cpu()


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


def tokens(x):
    return x["q"].shape[0] * x["q"].shape[1] * x["v"].shape[2]


def check(name, x, opts, log):
    """GPU result vs the float64 recurrence (the C reference for small
    problems, the float64 GPU recurrence for large ones), plus a second run
    that must be bitwise identical."""
    start = time.perf_counter()
    o, s, _ = run_gpu(x, opts)
    o2, s2, _ = run_gpu(x, opts)
    deterministic = torch.equal(o.view(torch.int16), o2.view(torch.int16)) and \
        torch.equal(s.view(torch.uint8), s2.view(torch.uint8))
    # The C reference for what it does in seconds; the float64 GPU recurrence
    # for many heads (its cost is per token, not per head).
    small = tokens(x) <= 4096 or (x["v"].shape[2] == 1 and x["v"].shape[3] <= 64)
    o_ref, s_ref = reference(x, opts) if small else reference_gpu(x, opts)
    # An all-empty batch has no output row: only the states are compared.
    err_o = rel_rms(o_ref, o.double()) if o.numel() else 0.0
    err_s = rel_rms(s_ref, s.double())
    ok = (err_o <= BAR and err_s <= BAR and math.isfinite(err_o)
          and math.isfinite(err_s) and deterministic)
    line = (f"{'ok  ' if ok else 'FAIL'} {name:52s} err(o) {err_o:.2e}  "
            f"err(S) {err_s:.2e}  {'deterministic' if deterministic else 'RUNS DIFFER'}"
            f"  [{'C' if small else 'GPU f64'} ref, {time.perf_counter() - start:.1f} s]")
    print(line, flush=True)
    log.append(line)
    return ok


def quick_cases():
    return [
        ("flashkda T=64 H=1", make_case(1, 1, 64, 1, 1, "flashkda")),
        ("precomputed T=64 H=1", make_case(2, 1, 64, 1, 1, "precomputed")),
        ("flashkda T=15 H=2 vk", make_case(3, 1, 15, 2, 2, "flashkda", v_first=True)),
        ("precomputed T=100 B=2 H=2 HV=4", make_case(4, 2, 100, 2, 4, "precomputed")),
        ("softplus K=64 varlen 5,0,40", make_case(5, 1, 0, 2, 2, "softplus",
                                                 lengths=[5, 0, 40], head=64)),
        ("flashkda bf16 g varlen 70,0,33 H=2", make_case(
            7, 1, 0, 2, 2, "flashkda", lengths=[70, 0, 33], gate_dtype=torch.bfloat16)),
        ("V=256 flashkda bf16 g varlen 40,0,21 H=2", make_case(
            8, 1, 0, 2, 2, "flashkda", lengths=[40, 0, 21], gate_dtype=torch.bfloat16,
            value_head=256)),
        ("segment scan (forced) flashkda bf16 g T=700 H=2 vk", ("segments-forced", make_case(
            9, 1, 700, 2, 2, "flashkda", v_first=True, gate_dtype=torch.bfloat16))),
        ("chunk 32: flashkda bf16 g varlen 70,0,33 H=2", ("chunk32", make_case(
            10, 1, 0, 2, 2, "flashkda", lengths=[70, 0, 33], gate_dtype=torch.bfloat16))),
        ("chunk 32: precomputed K=64 T=100 H=2", ("chunk32", make_case(
            11, 1, 100, 2, 2, "precomputed", head=64))),
        ("decode softplus vk", ("decode", ("softplus", True))),
        ("intermediate states, chunk 16, varlen 50,0,30",
         ("intermediate:16", make_case(6, 1, 0, 2, 2, "flashkda", lengths=[50, 0, 30]))),
    ]


STRESS_G = {  # FlashKDA's stress gates (spec §5): raw g, A_log = 0, H = 1
    "g=-8": lambda gen, shape: torch.full(shape, -8.0),
    "g=-4": lambda gen, shape: torch.full(shape, -4.0),
    "g=0": lambda gen, shape: torch.zeros(shape),
    "g=8": lambda gen, shape: torch.full(shape, 8.0),
    "g=U(-8,8)": lambda gen, shape: torch.rand(shape, generator=gen) * 16 - 8,
    "g=N(0,8)": lambda gen, shape: torch.randn(shape, generator=gen) * 8,
}
STRESS_BIAS = {
    "dt=+4": lambda gen, shape: torch.full(shape, 4.0),
    "dt=-4": lambda gen, shape: torch.full(shape, -4.0),
    "dt=+8": lambda gen, shape: torch.full(shape, 8.0),
    "dt=-8": lambda gen, shape: torch.full(shape, -8.0),
    "dt=U": lambda gen, shape: torch.rand(shape, generator=gen) * 16 - 8,
    "dt=N": lambda gen, shape: torch.randn(shape, generator=gen) * 8,
}


def full_cases(seed):
    r = lambda: seed + len(cases)  # noqa: E731  fresh inputs per case
    cases = []
    add = lambda name, case: cases.append((name, case))  # noqa: E731
    add("reference agreement (C vs GPU f64), T=300 HV=2",
        ("agreement", make_case(r(), 1, 300, 1, 2, "flashkda")))
    for T in (1, 15, 63, 64, 65, 1000, 8192):
        add(f"flashkda B=1 T={T} H=4", make_case(r(), 1, T, 4, 4, "flashkda"))
        add(f"precomputed B=2 T={T} H=1 HV=2", make_case(r(), 2, T, 1, 2, "precomputed"))
    for H in (1, 4, 64, 96):
        add(f"flashkda B=1 T=1000 H={H}", make_case(r(), 1, 1000, H, H, "flashkda"))
    add("flashkda B=1 T=8192 H=96", make_case(r(), 1, 8192, 96, 96, "flashkda"))
    add("flashkda B=1 T=8192 H=64", make_case(r(), 1, 8192, 64, 64, "flashkda"))
    add("varlen 0,1,63,64,65 (+0 at both ends) H=4",
        make_case(r(), 1, 0, 4, 4, "flashkda", lengths=[0, 0, 1, 63, 64, 65, 0]))
    add("varlen FlashKDA [1300,547,2048,963,271,3063] H=4",
        make_case(r(), 1, 0, 4, 4, "flashkda", lengths=[1300, 547, 2048, 963, 271, 3063]))
    add("varlen FlashKDA lengths H=96", make_case(
        r(), 1, 0, 96, 96, "flashkda", lengths=[1300, 547, 2048, 963, 271, 3063]))
    add("varlen all-empty batch (3 sequences, T=0)",
        make_case(r(), 1, 0, 2, 2, "flashkda", lengths=[0, 0, 0]))
    # A 1,048,576-token sequence (K = V = 64 to keep the CPU reference to
    # seconds), int32 offsets.
    add("varlen one 1048576-token sequence, int32, K=64 H=1", ("int32", make_case(
        r(), 1, 0, 1, 1, "softplus", lengths=[1 << 20], head=64)))
    add("varlen int32 cu_seqlens", ("int32", make_case(
        r(), 1, 0, 2, 2, "precomputed", lengths=[17, 0, 100, 31])))
    for mode in ("flashkda", "precomputed"):
        for state in (torch.float32, torch.bfloat16):
            for v_first in (False, True):
                for initial in (False, True):
                    for final in (False, True):
                        add(f"{mode} states {str(state)[6:]} {'vk' if v_first else 'kv'} "
                            f"initial={int(initial)} final={int(final)}",
                            ("final" if final else "nofinal",
                             make_case(r(), 2, 77, 2, 2, mode, state_dtype=state,
                                       v_first=v_first, initial=initial)))
    # bf16 g and beta (FlashKDA's callers): the gbf16 kernels, with the
    # split the front takes by grid size on 132 SMs: a cluster of six at
    # H = 4 (at most an eighth of the SMs), of three at H = 24, the value
    # split as a cluster of two at H = 48, one CTA per head at H = 96.
    bf16 = torch.bfloat16
    for mode in ("flashkda", "softplus"):
        for H in (4, 24, 48, 96):
            add(f"{mode} bf16 g B=1 T=1000 H={H}",
                make_case(r(), 1, 1000, H, H, mode, gate_dtype=bf16))
        add(f"{mode} bf16 g varlen 0,1,63,64,65 (+0 at both ends) H=4", make_case(
            r(), 1, 0, 4, 4, mode, lengths=[0, 0, 1, 63, 64, 65, 0], gate_dtype=bf16))
        for state in (torch.float32, bf16):
            for v_first in (False, True):
                add(f"{mode} bf16 g states {str(state)[6:]} {'vk' if v_first else 'kv'} B=2 H=12",
                    make_case(r(), 2, 77, 12, 12, mode, state_dtype=state, v_first=v_first,
                              gate_dtype=bf16))
    add("flashkda bf16 g B=1 T=8192 H=4", make_case(r(), 1, 8192, 4, 4, "flashkda",
                                                     gate_dtype=bf16))
    add("flashkda bf16 g varlen FlashKDA lengths H=24", make_case(
        r(), 1, 0, 24, 24, "flashkda", lengths=[1300, 547, 2048, 963, 271, 3063],
        gate_dtype=bf16))
    add("softplus bf16 g stress g=N(0,8) T=8192 H=2", make_case(
        r(), 1, 8192, 2, 2, "softplus", g_value=STRESS_G["g=N(0,8)"], gate_dtype=bf16))
    for gname, gfn in STRESS_G.items():
        add(f"stress {gname} T=8192 H=1", make_case(r(), 1, 8192, 1, 1, "flashkda",
                                                      g_value=gfn))
    for bname, bfn in STRESS_BIAS.items():
        add(f"stress {bname} T=8192 H=1",
            make_case(r(), 1, 8192, 1, 1, "flashkda", g_value=STRESS_G["g=U(-8,8)"],
                      dt_value=bfn))
    # The unbounded softplus gate (Kimi-Linear-48B): FlashKDA cannot run it.
    add("softplus B=1 T=8192 H=4", make_case(r(), 1, 8192, 4, 4, "softplus"))
    add("softplus varlen FlashKDA lengths H=8", make_case(
        r(), 1, 0, 8, 8, "softplus", lengths=[1300, 547, 2048, 963, 271, 3063]))
    add("softplus log decay -1000 per step", make_case(
        r(), 1, 300, 2, 2, "softplus", g_value=lambda gen, shape: torch.full(shape, 1000.0),
        dt_value=lambda gen, shape: torch.zeros(shape)))
    add("softplus half the channels fully decayed", make_case(
        r(), 1, 300, 2, 2, "softplus",
        g_value=lambda gen, shape: torch.where(torch.arange(shape[-1]) % 2 == 0,
                                               torch.tensor(1000.0),
                                               torch.randn(shape, generator=gen)),
        dt_value=lambda gen, shape: torch.zeros(shape)))
    for gname, gfn in STRESS_G.items():
        add(f"softplus stress {gname} T=8192 H=1",
            make_case(r(), 1, 8192, 1, 1, "softplus", g_value=gfn))
    for mode_state in (torch.float32, torch.bfloat16):
        for v_first in (False, True):
            add(f"softplus states {str(mode_state)[6:]} {'vk' if v_first else 'kv'}",
                make_case(r(), 2, 77, 2, 2, "softplus", state_dtype=mode_state,
                          v_first=v_first))
    # Head size 64 (K = V = 64), every mode, varlen, states.
    add("K=64 flashkda B=1 T=1000 H=4", make_case(r(), 1, 1000, 4, 4, "flashkda", head=64))
    add("K=64 precomputed B=2 T=8192 H=2 HV=4",
        make_case(r(), 2, 8192, 2, 4, "precomputed", head=64))
    add("K=64 softplus varlen FlashKDA lengths H=8", make_case(
        r(), 1, 0, 8, 8, "softplus", lengths=[1300, 547, 2048, 963, 271, 3063], head=64))
    for state in (torch.float32, torch.bfloat16):
        for v_first in (False, True):
            add(f"K=64 flashkda states {str(state)[6:]} {'vk' if v_first else 'kv'}",
                make_case(r(), 2, 77, 2, 2, "flashkda", state_dtype=state,
                          v_first=v_first, head=64))
    # Value heads twice as wide (K = 128, V = 256): the state split over two
    # CTAs, as a cluster with bf16 g, without one with f32 g.
    wide = dict(value_head=256)
    bf16 = torch.bfloat16
    for mode in ("flashkda", "softplus", "precomputed"):
        add(f"V=256 {mode} B=1 T=1000 H=4", make_case(r(), 1, 1000, 4, 4, mode, **wide))
    for mode in ("flashkda", "softplus"):
        add(f"V=256 {mode} bf16 g B=1 T=1000 H=4",
            make_case(r(), 1, 1000, 4, 4, mode, gate_dtype=bf16, **wide))
        add(f"V=256 {mode} bf16 g varlen 0,1,63,64,65 (+0 at both ends) H=4", make_case(
            r(), 1, 0, 4, 4, mode, lengths=[0, 0, 1, 63, 64, 65, 0], gate_dtype=bf16, **wide))
    add("V=256 precomputed B=2 T=8192 H=2 HV=4",
        make_case(r(), 2, 8192, 2, 4, "precomputed", **wide))
    add("V=256 flashkda bf16 g varlen FlashKDA lengths H=8", make_case(
        r(), 1, 0, 8, 8, "flashkda", lengths=[1300, 547, 2048, 963, 271, 3063],
        gate_dtype=bf16, **wide))
    for gate_dtype in (torch.float32, bf16):
        for state in (torch.float32, bf16):
            for v_first in (False, True):
                add(f"V=256 flashkda g {str(gate_dtype)[6:]} states {str(state)[6:]} "
                    f"{'vk' if v_first else 'kv'}",
                    make_case(r(), 2, 77, 2, 2, "flashkda", state_dtype=state,
                              v_first=v_first, gate_dtype=gate_dtype, **wide))
    add("V=256 intermediate states, chunk 16, varlen 50,0,130,64",
        ("intermediate:16", make_case(r(), 1, 0, 2, 2, "flashkda", lengths=[50, 0, 130, 64],
                                      gate_dtype=bf16, **wide)))
    # A varlen batch of equal lengths, which the front runs as a fixed batch.
    add("flashkda bf16 g varlen 4 x 300 H=4 (run as a fixed batch)", make_case(
        r(), 1, 0, 4, 4, "flashkda", lengths=[300] * 4, gate_dtype=bf16, v_first=True))
    add("intermediate states, chunk 16, varlen 3 x 100 (run as a fixed batch)",
        ("intermediate:16", make_case(r(), 1, 0, 2, 2, "softplus", lengths=[100] * 3)))
    # The segment scan (B = 1, K = V = 128, f32 states in the vk layout,
    # bf16 g): past the front's rules, forced below them, with many
    # segments (T = 16385 at H = 1: 65) and two (H = 32), without an
    # initial or a final state, and the benchmark's T = 65536 at H = 16.
    scan = dict(v_first=True, gate_dtype=bf16)
    add("segment scan flashkda T=20000 H=4",
        ("segments", make_case(r(), 1, 20000, 4, 4, "flashkda", **scan)))
    add("segment scan softplus T=16385 H=1 (65 segments)",
        ("segments", make_case(r(), 1, 16385, 1, 1, "softplus", **scan)))
    add("segment scan flashkda T=65536 H=16",
        ("segments", make_case(r(), 1, 65536, 16, 16, "flashkda", **scan)))
    add("segment scan (forced: 2 segments) flashkda T=32768 H=32",
        ("segments-forced", make_case(r(), 1, 32768, 32, 32, "flashkda", **scan)))
    # One token takes eight heads: at two, both heads' q.k were cancelled
    # 10-24 fold on seed 853504, and every rounding with them.
    for T, H in ((1, 8), (129, 2), (1000, 2), (3000, 2)):
        add(f"segment scan (forced) softplus T={T} H={H}, no initial state",
            ("segments-forced", make_case(r(), 1, T, H, H, "softplus", initial=False, **scan)))
    add("segment scan refuses a short workspace and two sequences", ("segment-refusals",
        make_case(r(), 1, 500, 2, 2, "flashkda", **scan)))
    add("segment scan (forced) flashkda T=3000 H=2 HV=4, no final state",
        ("segments-forced-nofinal", make_case(r(), 1, 3000, 2, 4, "flashkda", **scan)))
    # The decode step against a pool (padding rows included).
    for mode in ("flashkda", "softplus", "precomputed"):
        for v_first in (False, True):
            add(f"decode {mode} {'vk' if v_first else 'kv'} N=48 P=64 HV=4",
                ("decode", (mode, v_first)))
    for mode, v_first in (("softplus", False), ("precomputed", True), ("flashkda", True)):
        add(f"decode K=64 {mode} {'vk' if v_first else 'kv'} N=48 P=64 HV=4",
            ("decode", (mode, v_first, 64)))
    add("decode refuses a state pool off 16-byte alignment", ("decode-misaligned", None))
    add("forward refuses a vk initial state off 8-byte alignment",
        ("forward-misaligned", make_case(r(), 1, 100, 2, 2, "flashkda", v_first=True)))
    # Intermediate states (fla's return_intermediate_states), bf16.
    add("intermediate states, chunk 64, B=2 T=200 H=2",
        ("intermediate:64", make_case(r(), 2, 200, 2, 2, "flashkda")))
    add("intermediate states, chunk 16, varlen 50,0,130,64 vk",
        ("intermediate:16", make_case(r(), 1, 0, 2, 2, "softplus",
                                      lengths=[50, 0, 130, 64], v_first=True)))
    add("intermediate states, chunk 32, K=64 precomputed",
        ("intermediate:32", make_case(r(), 1, 100, 1, 2, "precomputed", head=64)))
    add("20 identical consecutive keys", make_case(r(), 1, 200, 2, 2, "flashkda",
                                                   repeat_keys=19))
    add("20 identical consecutive keys, precomputed",
        make_case(r(), 1, 200, 2, 2, "precomputed", repeat_keys=19))
    # 32-token chunks ($KDA_CHUNK_SIZE=32, the _chunk32 bundles): every
    # mode, head size, state dtype and layout, chunk edges, varlen, the
    # pairwise A matrices (wide spread) and the stress gates.
    c32 = lambda name, case, inner=None: add(  # noqa: E731
        f"chunk 32: {name}", ("chunk32" + (f"+{inner}" if inner else ""), case))
    for T in (1, 31, 32, 33, 1000):
        c32(f"flashkda B=1 T={T} H=4", make_case(r(), 1, T, 4, 4, "flashkda"))
    c32("precomputed B=2 T=1000 H=1 HV=2", make_case(r(), 2, 1000, 1, 2, "precomputed"))
    c32("softplus B=1 T=1000 H=4", make_case(r(), 1, 1000, 4, 4, "softplus"))
    c32("flashkda bf16 g B=1 T=8192 H=96", make_case(r(), 1, 8192, 96, 96, "flashkda",
                                                      gate_dtype=bf16))
    c32("softplus bf16 g varlen FlashKDA lengths H=8", make_case(
        r(), 1, 0, 8, 8, "softplus", lengths=[1300, 547, 2048, 963, 271, 3063],
        gate_dtype=bf16))
    c32("flashkda varlen 0,1,63,64,65 (+0 at both ends) H=4",
        make_case(r(), 1, 0, 4, 4, "flashkda", lengths=[0, 0, 1, 63, 64, 65, 0]))
    for mode in ("flashkda", "softplus"):
        for state in (torch.float32, bf16):
            for v_first in (False, True):
                c32(f"{mode} bf16 g states {str(state)[6:]} {'vk' if v_first else 'kv'} B=2",
                    make_case(r(), 2, 77, 2, 2, mode, state_dtype=state, v_first=v_first,
                              gate_dtype=bf16))
    c32("precomputed states bf16 vk initial=0, no final", make_case(
        r(), 2, 77, 2, 2, "precomputed", state_dtype=bf16, v_first=True, initial=False),
        "nofinal")
    for gname in ("g=0", "g=-8", "g=N(0,8)"):
        c32(f"stress {gname} T=8192 H=1", make_case(r(), 1, 8192, 1, 1, "flashkda",
                                                    g_value=STRESS_G[gname]))
    c32("softplus bf16 g stress g=N(0,8) T=8192 H=2", make_case(
        r(), 1, 8192, 2, 2, "softplus", g_value=STRESS_G["g=N(0,8)"], gate_dtype=bf16))
    c32("softplus log decay -1000 per step", make_case(
        r(), 1, 300, 2, 2, "softplus", g_value=lambda gen, shape: torch.full(shape, 1000.0),
        dt_value=lambda gen, shape: torch.zeros(shape)))
    c32("20 identical consecutive keys", make_case(r(), 1, 200, 2, 2, "flashkda",
                                                   repeat_keys=19))
    c32("K=64 flashkda B=1 T=1000 H=4", make_case(r(), 1, 1000, 4, 4, "flashkda", head=64))
    c32("K=64 softplus varlen FlashKDA lengths H=8 bf16 vk", make_case(
        r(), 1, 0, 8, 8, "softplus", lengths=[1300, 547, 2048, 963, 271, 3063], head=64,
        state_dtype=bf16, v_first=True))
    c32("V=256 flashkda bf16 g B=1 T=1000 H=4", make_case(
        r(), 1, 1000, 4, 4, "flashkda", gate_dtype=bf16, **wide))
    c32("V=256 precomputed B=2 T=1000 H=2 HV=4 vk", make_case(
        r(), 2, 1000, 2, 4, "precomputed", v_first=True, **wide))
    c32("intermediate states, chunk 64, B=2 T=200 H=2",
        make_case(r(), 2, 200, 2, 2, "flashkda"), "intermediate:64")
    c32("intermediate states, chunk 32, varlen 50,0,130,64 vk", make_case(
        r(), 1, 0, 2, 2, "softplus", lengths=[50, 0, 130, 64], v_first=True),
        "intermediate:32")
    return cases


def check_case(name, case, log):
    tag = None
    if isinstance(case[0], str):
        tag, case = case
    if tag == "decode":
        return check_decode(name, *case)
    if tag == "decode-misaligned":
        return check_decode_misaligned(name)
    x, opts = case
    if tag == "forward-misaligned":
        return check_forward_misaligned(name, x, opts, log)
    if tag == "segment-refusals":
        return check_segment_refusals(name, x, opts)
    if tag == "agreement":
        o_c, s_c = reference(x, opts)
        o_g, s_g = reference_gpu(x, opts)
        err = max(rel_rms(o_c, o_g), rel_rms(s_c, s_g))
        ok = err < 1e-10
        print(f"{'ok  ' if ok else 'FAIL'} {name:52s} {err:.1e}", flush=True)
        return ok and check(name, x, opts, log)
    if tag and tag.startswith("intermediate"):
        return check_intermediate(name, x, opts, int(tag.split(":")[1]))
    if tag == "int32":
        x = dict(x, cu_seqlens=x["cu_seqlens"].to(torch.int32))
    if tag == "nofinal":
        return check_nofinal(name, x, opts)
    if tag and tag.startswith("segments"):
        return check_segment_scan(name, x, opts, log, tag)
    if tag and tag.startswith("chunk32"):
        return check_chunk32(name, x, opts, log, tag.partition("+")[2])
    return check(name, x, opts, log)


def check_chunk32(name, x, opts, log, inner):
    """A case in 32-token chunks: checked as any other (`inner`: 'nofinal'
    or 'intermediate:N' as those tags), and failed unless every launch took
    a _chunk32 bundle."""
    with forced_chunk_size(32):
        del BUNDLES_RUN[:]
        if inner == "nofinal":
            ok = check_nofinal(name, x, opts)
        elif inner.startswith("intermediate"):
            ok = check_intermediate(name, x, opts, int(inner.split(":")[1]))
        else:
            ok = check(name, x, opts, log)
        ran = bool(BUNDLES_RUN) and all(path.endswith("_chunk32.kdab") for path in BUNDLES_RUN)
    if not ran:
        print(f"FAIL {name}: the 32-token chunks did not run ({BUNDLES_RUN})", flush=True)
    return ok and ran


def check_nofinal(name, x, opts):
    opts = dict(opts, output_final_state=False)
    o, s, _ = run_gpu_nofinal(x, opts)
    o_ref, _ = reference(x, dict(opts, output_final_state=True))
    err = rel_rms(o_ref, o.double())
    ok = err <= BAR and s is None
    print(f"{'ok  ' if ok else 'FAIL'} {name:52s} err(o) {err:.2e}  final None",
          flush=True)
    return ok


def check_segment_scan(name, x, opts, log, tag):
    """A case the segment scan must run (tag 'segments'; 'segments-forced'
    below the front's length rule; '-nofinal' without the final state):
    checked as any other, and failed unless every launch took the
    segment-scan bundle."""
    with forced_segment_scan("forced" in tag):
        del BUNDLES_RUN[:]
        ok = (check_nofinal(name, x, opts) if tag.endswith("nofinal")
              else check(name, x, opts, log))
        ran = bool(BUNDLES_RUN) and all("_segments" in path for path in BUNDLES_RUN)
    if not ran:
        print(f"FAIL {name}: the segment scan did not run ({BUNDLES_RUN})", flush=True)
    return ok and ran


def run_gpu_nofinal(x, opts):
    dev = {k: t.cuda() for k, t in x.items()}
    o, s = kda.chunk_kda(**dev, **opts)
    torch.cuda.synchronize()
    return o.cpu(), s, dev


def check_intermediate(name, x, opts, chunk_size):
    """The states entering every chunk_size-token chunk (bf16 on the GPU)
    against the C reference's, and o and the final state as usual."""
    opts = dict(opts, return_intermediate_states=True, chunk_size=chunk_size)
    dev = {k: t.cuda() for k, t in x.items()}
    o, s, h = kda.chunk_kda(**dev, **opts)
    torch.cuda.synchronize()
    cpu = {k: (t.double() if t.is_floating_point() and k not in ("A_log", "dt_bias")
               else t) for k, t in x.items()}
    o_ref, s_ref, h_ref = kda.chunk_kda(**cpu, **opts)
    errs = [rel_rms(o_ref, o.cpu().double()), rel_rms(s_ref, s.cpu().double()),
            rel_rms(h_ref, h.cpu().double()) if h_ref.numel() else 0.0]
    ok = (h.shape == h_ref.shape and h.dtype == torch.bfloat16
          and all(math.isfinite(e) and e <= BAR for e in errs))
    print(f"{'ok  ' if ok else 'FAIL'} {name:52s} err(o) {errs[0]:.2e}  err(S) "
          f"{errs[1]:.2e}  err(h) {errs[2]:.2e}  h {tuple(h.shape)}", flush=True)
    return ok


def check_decode(name, mode, v_first, K=128, N=48, P=64, H=2, HV=4, seed=0):
    """The decode kernel against the CPU reference: o and every pool slot
    (the updated ones and the untouched ones), padding rows included."""
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(N, H, K, generator=gen).bfloat16()
    k = torch.randn(N, H, K, generator=gen).bfloat16()
    v = torch.randn(N, HV, K, generator=gen).bfloat16()
    g = torch.randn(N, HV, K, generator=gen)
    beta = torch.randn(N, HV, generator=gen)
    pool = torch.randn(P, HV, K, K, generator=gen) * 0.1
    indices = torch.randperm(P, generator=gen)[:N]
    indices[::7] = -1  # padding rows
    opts = dict(use_qk_l2norm_in_kernel=True, use_beta_sigmoid_in_kernel=True,
                state_v_first=v_first)
    if mode == "precomputed":
        g = F.logsigmoid(g) / 4
        beta = torch.rand(N, HV, generator=gen)
        opts = dict(state_v_first=v_first)
        q = F.normalize(q.float(), dim=-1).bfloat16()
        k = F.normalize(k.float(), dim=-1).bfloat16()
    elif mode == "softplus":
        opts.update(use_gate_in_kernel=True, A_log=torch.rand(HV, generator=gen))
    else:
        opts.update(use_gate_in_kernel=True, lower_bound=-5.0,
                    A_log=torch.rand(HV, generator=gen))
    gpu_pool = pool.cuda()
    dev_opts = {k2: (t.cuda() if isinstance(t, torch.Tensor) else t) for k2, t in opts.items()}
    o = kda.decode(q.cuda(), k.cuda(), v.cuda(), g.cuda(), beta.cuda(), gpu_pool,
                   indices.cuda(), **dev_opts)
    torch.cuda.synchronize()
    ref_pool = pool.double()
    o_ref = kda.decode(q.double(), k.double(), v.double(), g.double(), beta.double(),
                       ref_pool, indices, **opts)
    err_o = rel_rms(o_ref, o.cpu().double())
    err_s = rel_rms(ref_pool, gpu_pool.cpu().double())
    padding_zero = bool((o.cpu()[indices < 0] == 0).all())
    ok = err_o <= BAR and err_s <= BAR and padding_zero
    print(f"{'ok  ' if ok else 'FAIL'} {name:52s} err(o) {err_o:.2e}  err(pool) {err_s:.2e}",
          flush=True)
    return ok


def check_decode_misaligned(name, N=4, HV=2, K=128):
    """A pool view 4 bytes off alignment gets a ValueError naming
    state_pool, and no slot is written."""
    flat = torch.randn(N * HV * K * K + 1, device="cuda")
    pool = flat[1:].view(N, HV, K, K)
    before = pool.clone()
    x = torch.randn(N, HV, K, device="cuda").bfloat16()
    try:
        kda.decode(x, x, x, torch.randn(N, HV, K, device="cuda"),
                   torch.rand(N, HV, device="cuda"), pool,
                   torch.arange(N, device="cuda"))
        message = "no error"
    except ValueError as error:
        message = str(error)
    torch.cuda.synchronize()
    ok = "state_pool" in message and "aligned" in message and torch.equal(pool, before)
    print(f"{'ok  ' if ok else 'FAIL'} {name:52s} {message[:60]}", flush=True)
    return ok


def check_forward_misaligned(name, x, opts, log):
    """An fp32 vk initial state 4 bytes off alignment (the kernel reads two
    values at a time) is refused by the C library, which names
    initial_state (kda.KDAError), before any launch; the same call on an
    aligned copy then passes as usual."""
    dev = {k: t.cuda() for k, t in x.items()}
    state = dev["initial_state"]
    flat = torch.empty(state.numel() + 1, device="cuda")
    flat[1:].copy_(state.flatten())
    dev["initial_state"] = flat[1:].view(state.shape)
    try:
        kda.chunk_kda(**dev, **opts)
        message = "no error"
    except kda.KDAError as error:
        message = str(error)
    torch.cuda.synchronize()
    refused = "'initial_state'" in message and "8-byte aligned" in message
    print(f"{'ok  ' if refused else 'FAIL'} {name:52s} {message[:60]}", flush=True)
    return refused and check(name + ", aligned", x, opts, log)


def check_segment_refusals(name, x, opts):
    """kda_forward refuses, by name and before any launch, a segment-scan
    call (one sequence, `x`) whose workspace is 16 bytes short, and one of
    two sequences (`x` twice; the front is made to take the scan's bundle)."""
    from kda import _gpu, _lib
    dev = {k: t.cuda() for k, t in x.items()}
    pair = {k: (torch.cat([t, t]) if k in ("q", "k", "v", "g", "beta", "initial_state") else t)
            for k, t in dev.items()}
    real_size, real_choice = _lib.Bundle.workspace_size, _gpu.use_segment_scan

    def attempt(inputs):
        try:
            kda.chunk_kda(**inputs, **opts)
            return "no error"
        except kda.KDAError as error:
            return str(error)

    with forced_segment_scan():
        try:
            _lib.Bundle.workspace_size = lambda self, args: real_size(self, args) - 16
            short = attempt(dev)
            _lib.Bundle.workspace_size = real_size
            _gpu.use_segment_scan = lambda N, *rest: True
            two = attempt(pair)
        finally:
            _lib.Bundle.workspace_size, _gpu.use_segment_scan = real_size, real_choice
    torch.cuda.synchronize()
    ok = ("argument 'workspace'" in short and "KDA_ERR_INVALID_ARGUMENT" in short
          and "argument 'batch' must be 1" in two and "KDA_ERR_UNSUPPORTED" in two)
    print(f"{'ok  ' if ok else 'FAIL'} {name:52s} {short[:50]} | {two[:50]}", flush=True)
    return ok


def check_fla_dispatch():
    """With fla installed (and FlashKDA not), fla's chunk_kda on CUDA tensors
    runs kda's kernel: the same bits as calling kda directly."""
    import importlib.util
    if importlib.util.find_spec("fla") is None:
        print("skip fla dispatch: fla is not installed here", flush=True)
        return None
    import fla.ops.kda as fla_kda
    from kda import fla_backend
    x, opts = make_case(99, 1, 500, 2, 2, "softplus")
    dev = {k: t.cuda() for k, t in x.items()}
    opts = dict(opts, state_v_first=True)
    dev["initial_state"] = dev["initial_state"].transpose(-1, -2).contiguous()
    seen = []
    real = fla_backend.ops.chunk_kda
    fla_backend.ops.chunk_kda = lambda *a, **kw: seen.append(1) or real(*a, **kw)
    try:
        with torch.no_grad():
            o, s = fla_kda.chunk_kda(**dev, **opts)
    finally:
        fla_backend.ops.chunk_kda = real
    o_kda, s_kda = kda.chunk_kda(**dev, **opts)
    ok = len(seen) == 1 and torch.equal(o, o_kda) and torch.equal(s, s_kda)
    print(f"{'ok  ' if ok else 'FAIL'} fla's chunk_kda on CUDA dispatched to kda "
          f"(calls reaching kda: {len(seen)}, identical: {torch.equal(o, o_kda)})", flush=True)
    return ok


def check_custom_op():
    """The torch.library op kda::forward, which torch.compile traces, runs
    the same launch as the eager path: the same bits."""
    from kda import _gpu, ops
    x, opts = make_case(98, 1, 300, 2, 2, "flashkda")
    dev = {k: t.cuda() for k, t in x.items()}
    o_eager, s_eager = kda.chunk_kda(**dev, **opts)
    real = ops._gpu_launcher
    ops._gpu_launcher = lambda: _gpu.forward
    try:
        o_op, s_op = kda.chunk_kda(**dev, **opts)
    finally:
        ops._gpu_launcher = real
    ok = torch.equal(o_eager, o_op) and torch.equal(s_eager, s_op)
    print(f"{'ok  ' if ok else 'FAIL'} the custom op kda::forward runs the eager path's launch "
          f"(identical: {ok})", flush=True)
    return ok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=random.randrange(2**20))
    parser.add_argument("--only", help="run the cases whose name contains this")
    args = parser.parse_args()
    install_checks()
    print(torch.cuda.get_device_name(0), torch.__version__, "seed", args.seed, flush=True)
    cases = quick_cases() if args.quick else full_cases(args.seed)
    if args.only:
        cases = [(name, case) for name, case in cases if args.only in name]
    log, passed, failed = [], 0, 0
    for name, case in cases:
        try:
            ok = check_case(name, case, log)
        except Exception as error:  # a crash is a failure, reported
            print(f"FAIL {name}: {type(error).__name__}: {error}", flush=True)
            ok = False
        passed += ok
        failed += not ok
    op_ok = check_custom_op()
    passed += op_ok
    failed += not op_ok
    dispatched = check_fla_dispatch()
    if dispatched is not None:
        passed += dispatched
        failed += not dispatched
    print(f"gpu-forward: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
