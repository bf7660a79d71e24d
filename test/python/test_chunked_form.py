"""The token-by-token reference (C, float64) against the independent chunked
form of spec §4 (numpy, float64): they must agree to ~1e-10 for every chunk
size, gate and beta mode, layout, grouped heads and varlen packing."""

import random

import numpy as np
import pytest
import torch

import kda
from accuracy import rel_rms
from chunked_form import chunked_forward

TOLERANCE = 1e-9


def random_inputs(seed, B, T, H, HV, K, V, gate):
    gen = torch.Generator().manual_seed(seed)
    f64 = dict(dtype=torch.float64, generator=gen)
    q = torch.randn(B, T, H, K, **f64)
    k = torch.randn(B, T, H, K, **f64) / K ** 0.5
    v = torch.randn(B, T, HV, V, **f64)
    if gate == "precomputed":
        g = -torch.rand(B, T, HV, K, **f64) * 0.5  # log decays in [-0.5, 0]
    else:
        g = torch.randn(B, T, HV, K, **f64) * 2  # raw gate pre-activations
    beta = torch.rand(B, T, HV, **f64)
    return q, k, v, g, beta


CASES = [
    # id, B, T, H, HV, K, V, chunk_size, options
    ("t1", 1, 1, 1, 1, 16, 16, 64, {}),
    ("t15_c16", 1, 15, 2, 2, 16, 8, 16, {}),
    ("t64", 1, 64, 1, 1, 32, 32, 64, {}),
    ("t65_c32", 2, 65, 1, 2, 16, 24, 32, {}),
    ("t150_c64_initial", 1, 150, 2, 2, 32, 16, 64, {"initial_state": True}),
    ("softplus", 1, 70, 1, 2, 16, 16, 16,
     {"gate": "softplus", "A_log": True, "dt_bias": True}),
    ("lower_bound", 1, 70, 2, 2, 16, 16, 64,
     {"gate": "lower_bound", "A_log": True, "dt_bias": True, "lower_bound": -5.0}),
    ("lower_bound_no_A_log", 1, 40, 1, 1, 16, 16, 32,
     {"gate": "lower_bound", "dt_bias": True, "lower_bound": -1.5}),
    ("l2norm_sigmoid", 1, 50, 2, 4, 32, 16, 16,
     {"qk_l2norm": True, "beta_mode": "sigmoid"}),
    ("neg_eigval", 1, 50, 1, 1, 16, 16, 32,
     {"qk_l2norm": True, "beta_mode": "sigmoid_neg_eigval"}),
    ("vk_layout", 2, 33, 1, 1, 16, 8, 16,
     {"initial_state": True, "state_v_first": True}),
    ("varlen", 1, 100, 2, 2, 16, 16, 32,
     {"cu_seqlens": [0, 0, 1, 33, 33, 97, 100], "initial_state": True}),
    ("k64_v64", 1, 80, 1, 1, 64, 64, 64, {"qk_l2norm": True}),
    ("k128_v128", 1, 65, 1, 1, 128, 128, 64,
     {"qk_l2norm": True, "gate": "softplus", "A_log": True}),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_reference_matches_chunked_form(case):
    name, B, T, H, HV, K, V, C, opt = case
    gate = opt.get("gate", "precomputed")
    seed = random.randrange(2**31)  # fresh inputs each run; reported on failure
    q, k, v, g, beta = random_inputs(seed, B, T, H, HV, K, V, gate)
    gen = torch.Generator().manual_seed(seed + 1)
    A_log = (torch.rand(HV, generator=gen) * 2 - 1) if opt.get("A_log") else None
    dt_bias = (torch.randn(HV * K, generator=gen)) if opt.get("dt_bias") else None
    cu = opt.get("cu_seqlens")
    N = B if cu is None else len(cu) - 1
    state_shape = (N, HV, V, K) if opt.get("state_v_first") else (N, HV, K, V)
    s0 = (torch.randn(state_shape, dtype=torch.float64, generator=gen)
          if opt.get("initial_state") else None)
    beta_mode = opt.get("beta_mode", "plain")

    o, s = kda.chunk_kda(
        q, k, v, g, beta, initial_state=s0, output_final_state=True,
        use_qk_l2norm_in_kernel=opt.get("qk_l2norm", False),
        use_gate_in_kernel=gate != "precomputed",
        use_beta_sigmoid_in_kernel=beta_mode != "plain",
        allow_neg_eigval=beta_mode == "sigmoid_neg_eigval",
        lower_bound=opt.get("lower_bound"), state_v_first=opt.get("state_v_first", False),
        cu_seqlens=torch.tensor(cu) if cu is not None else None,
        A_log=A_log, dt_bias=dt_bias, chunk_size=C)

    o_ref, s_ref = chunked_forward(
        q.numpy(), k.numpy(), v.numpy(), g.numpy(), beta.numpy(), chunk_size=C,
        initial_state=s0.numpy() if s0 is not None else None, cu_seqlens=cu,
        gate=gate, A_log=A_log.double().numpy() if A_log is not None else None,
        dt_bias=dt_bias.double().numpy() if dt_bias is not None else None,
        lower_bound=opt.get("lower_bound"), qk_l2norm=opt.get("qk_l2norm", False),
        beta_mode=beta_mode, state_v_first=opt.get("state_v_first", False))

    assert o.dtype == torch.float64 and s.dtype == torch.float64
    assert not np.isnan(o_ref).any(), "the chunked form left a row unwritten"
    err_o = rel_rms(torch.from_numpy(o_ref), o)
    err_s = rel_rms(torch.from_numpy(s_ref), s)
    assert err_o <= TOLERANCE, f"seed {seed}: err(o) = {err_o:.3e}"
    assert err_s <= TOLERANCE, f"seed {seed}: err(final_state) = {err_s:.3e}"
    print(f"{name}: err(o) = {err_o:.1e}, err(final_state) = {err_s:.1e}")


def test_chunked_form_detects_a_wrong_reference():
    """The comparison can fail: a perturbed decay is caught."""
    q, k, v, g, beta = random_inputs(3, 1, 40, 1, 1, 16, 16, "precomputed")
    o, _ = kda.chunk_kda(q, k, v, g, beta)
    o_ref, _ = chunked_forward(q.numpy(), k.numpy(), v.numpy(),
                               g.numpy() * 1.001, beta.numpy(), chunk_size=16)
    assert rel_rms(torch.from_numpy(o_ref), o) > TOLERANCE
