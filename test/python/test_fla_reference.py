"""The C reference against flash-linear-attention's own references, which
no one here wrote: `fla.ops.kda.naive.naive_recurrent_kda` with fla's gate
functions (`naive_kda_gate`, `naive_kda_lowerbound_gate`), live, on fresh
random float32 inputs. fla computes in float32 and kda in float64, so they
agree to float32 accuracy; the bar is err <= 1e-5 (spec §5 measure).

fla's naive reference has no varlen, no state_v_first and no in-kernel l2norm
or beta sigmoid: those are applied here the way fla's own tests apply them
(F.normalize, torch.sigmoid), varlen is compared per sequence and the vk
layout through a transpose."""

import random

import pytest
import torch
import torch.nn.functional as F

import fla
from fla.ops.kda.gate import naive_kda_gate, naive_kda_lowerbound_gate
from fla.ops.kda.naive import naive_recurrent_kda

import kda
from accuracy import rel_rms

FLA_VERSION = "0.6.0"  # pinned in utils/requirements-test.txt
TOLERANCE = 1e-5

SHAPES = [  # B, T, H, HV, K, V
    (1, 33, 1, 1, 16, 16),
    (2, 64, 2, 4, 32, 16),
    (1, 100, 2, 2, 64, 64),
    (1, 20, 1, 2, 128, 128),
]
MODES = [  # gate, lower_bound, with A_log, l2norm, beta mode, state_v_first
    ("precomputed", None, False, False, "plain", False),
    ("precomputed", None, False, True, "sigmoid", True),
    ("softplus", None, True, True, "sigmoid", False),
    ("softplus", None, True, False, "sigmoid_neg_eigval", True),
    ("lower_bound", -5.0, True, True, "sigmoid", True),
    ("lower_bound", -3.0, False, True, "plain", False),
]


def test_fla_is_the_pinned_version():
    assert fla.__version__ == FLA_VERSION


def fla_gate(g_raw, gate, lower_bound, A_log, dt_bias):
    if gate == "precomputed":
        return g_raw
    if gate == "softplus":
        return naive_kda_gate(g_raw, A_log, dt_bias)
    return naive_kda_lowerbound_gate(g_raw, A_log, dt_bias, lower_bound=lower_bound)


def fla_beta(beta_raw, mode):
    if mode == "plain":
        return beta_raw
    return torch.sigmoid(beta_raw) * (2.0 if mode == "sigmoid_neg_eigval" else 1.0)


def make_inputs(seed, B, T, H, HV, K, V, gate, with_A_log, beta_mode):
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(B, T, H, K, generator=gen)
    k = torch.randn(B, T, H, K, generator=gen)
    v = torch.randn(B, T, HV, V, generator=gen)
    if gate == "precomputed":
        g = F.logsigmoid(torch.randn(B, T, HV, K, generator=gen)) / 4
    else:
        g = torch.randn(B, T, HV, K, generator=gen)
    beta = (torch.rand(B, T, HV, generator=gen) if beta_mode == "plain"
            else torch.randn(B, T, HV, generator=gen))
    A_log = (torch.empty(HV).uniform_(1, 16, generator=gen).log()
             if with_A_log else None)
    dt_bias = torch.randn(HV * K, generator=gen) if gate != "precomputed" else None
    s0 = torch.randn(B, HV, K, V, generator=gen) * 0.1
    return q, k, v, g, beta, A_log, dt_bias, s0


@pytest.mark.parametrize("mode", MODES, ids=lambda m: "-".join(map(str, m)))
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_reference_matches_fla_naive(shape, mode):
    B, T, H, HV, K, V = shape
    gate, lower_bound, with_A_log, l2norm, beta_mode, v_first = mode
    seed = random.randrange(2**31)
    q, k, v, g, beta, A_log, dt_bias, s0 = make_inputs(
        seed, B, T, H, HV, K, V, gate, with_A_log, beta_mode)

    # Unit-norm keys keep the recurrence contractive (|1 - beta |k|^2| <= 1),
    # as in the model; without in-kernel l2norm they come normalised, as in
    # fla's own tests.
    qn, kn = F.normalize(q, p=2, dim=-1), F.normalize(k, p=2, dim=-1)
    if not l2norm:
        q, k = qn, kn
    o_fla, s_fla = naive_recurrent_kda(
        qn, kn, v, fla_gate(g, gate, lower_bound, A_log, dt_bias),
        fla_beta(beta, beta_mode), initial_state=s0, output_final_state=True)

    o, s = kda.chunk_kda(
        q, k, v, g, beta, initial_state=s0.transpose(-1, -2).contiguous() if v_first else s0,
        output_final_state=True, use_qk_l2norm_in_kernel=l2norm,
        use_gate_in_kernel=gate != "precomputed",
        use_beta_sigmoid_in_kernel=beta_mode != "plain",
        allow_neg_eigval=beta_mode == "sigmoid_neg_eigval",
        lower_bound=lower_bound, A_log=A_log, dt_bias=dt_bias, state_v_first=v_first)
    if v_first:
        s = s.transpose(-1, -2)

    err_o, err_s = rel_rms(o_fla, o), rel_rms(s_fla, s)
    assert err_o <= TOLERANCE, f"seed {seed}: err(o) = {err_o:.2e}"
    assert err_s <= TOLERANCE, f"seed {seed}: err(final_state) = {err_s:.2e}"


@pytest.mark.parametrize("index_dtype", [torch.int32, torch.int64])
def test_varlen_matches_fla_naive_per_sequence(index_dtype):
    """Packed sequences (empty ones included) against one fla call each."""
    cu = [0, 17, 17, 80, 81, 81, 130]
    HV, H, K, V = 2, 1, 32, 32
    seed = random.randrange(2**31)
    q, k, v, g_raw, beta, A_log, dt_bias, _ = make_inputs(
        seed, 1, cu[-1], H, HV, K, V, "softplus", True, "sigmoid")
    s0 = torch.randn(len(cu) - 1, HV, K, V) * 0.1
    o, s = kda.chunk_kda(q, k, v, g_raw, beta, initial_state=s0,
                         output_final_state=True, use_qk_l2norm_in_kernel=True,
                         use_gate_in_kernel=True, use_beta_sigmoid_in_kernel=True,
                         A_log=A_log, dt_bias=dt_bias,
                         cu_seqlens=torch.tensor(cu, dtype=index_dtype))
    g = naive_kda_gate(g_raw, A_log, dt_bias)
    for n in range(len(cu) - 1):
        t0, t1 = cu[n], cu[n + 1]
        if t0 == t1:
            assert torch.equal(s[n], s0[n]), f"empty sequence {n} changed its state"
            continue
        part = slice(t0, t1)
        o_fla, s_fla = naive_recurrent_kda(
            F.normalize(q[:, part], dim=-1), F.normalize(k[:, part], dim=-1),
            v[:, part], g[:, part], torch.sigmoid(beta[:, part]),
            initial_state=s0[n:n + 1], output_final_state=True)
        assert rel_rms(o_fla, o[:, part]) <= TOLERANCE, f"seed {seed}: o of sequence {n}"
        assert rel_rms(s_fla[0], s[n]) <= TOLERANCE, f"seed {seed}: state of sequence {n}"


def test_comparison_can_fail():
    """A wrong gate (softplus where fla used lower_bound) is far off."""
    q, k, v, g, beta, A_log, dt_bias, s0 = make_inputs(
        1, 1, 40, 1, 1, 16, 16, "lower_bound", True, "plain")
    o_fla, _ = naive_recurrent_kda(
        q, k, v, naive_kda_lowerbound_gate(g, A_log, dt_bias, lower_bound=-5.0), beta)
    o, _ = kda.chunk_kda(q, k, v, g, beta, use_gate_in_kernel=True, A_log=A_log,
                         dt_bias=dt_bias)
    assert rel_rms(o_fla, o) > TOLERANCE
