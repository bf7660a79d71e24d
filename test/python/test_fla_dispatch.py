"""fla's own chunk_kda dispatches to kda through fla's backend registry
(fla-core 0.6.0, live): the call reaches kda and returns kda's result;
FLA_KDA=0 opts out; calls kda cannot run are refused with a reason."""

import pytest
import torch

import fla.ops.kda as fla_kda
import kda
from kda import fla_backend


def inputs():
    gen = torch.Generator().manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(1, 20, 2, 16, generator=gen), dim=-1)
    k = torch.nn.functional.normalize(torch.randn(1, 20, 2, 16, generator=gen), dim=-1)
    v = torch.randn(1, 20, 2, 16, generator=gen)
    g = torch.randn(1, 20, 2, 16, generator=gen)
    beta = torch.randn(1, 20, 2, generator=gen)
    A_log = torch.rand(2, generator=gen)
    dt_bias = torch.rand(2 * 16, generator=gen)
    return q, k, v, g, beta, A_log, dt_bias


@pytest.fixture
def calls(monkeypatch):
    """Records every call that reaches kda through the backend."""
    seen = []
    real = fla_backend.ops.chunk_kda

    def spy(*args, **kwargs):
        seen.append(kwargs)
        return real(*args, **kwargs)
    monkeypatch.setattr(fla_backend.ops, "chunk_kda", spy)
    return seen


def model_call(q, k, v, g, beta, A_log, dt_bias):
    """How fla's KDA layer calls chunk_kda (Kimi-Linear's configuration)."""
    return fla_kda.chunk_kda(q, k, v, g, beta, A_log=A_log, dt_bias=dt_bias,
                             output_final_state=True, use_qk_l2norm_in_kernel=True,
                             use_gate_in_kernel=True, use_beta_sigmoid_in_kernel=True,
                             state_v_first=True)


def test_fla_dispatches_to_kda(calls):
    x = inputs()
    with torch.no_grad():
        o, s = model_call(*x)
    assert len(calls) == 1, "fla's chunk_kda did not reach kda"
    q, k, v, g, beta, A_log, dt_bias = x
    o_kda, s_kda = kda.chunk_kda(q, k, v, g, beta, A_log=A_log, dt_bias=dt_bias,
                                 output_final_state=True, use_qk_l2norm_in_kernel=True,
                                 use_gate_in_kernel=True, use_beta_sigmoid_in_kernel=True,
                                 state_v_first=True)
    assert torch.equal(o, o_kda) and torch.equal(s, s_kda)


def test_opt_out(calls, monkeypatch):
    monkeypatch.setenv("FLA_KDA", "0")
    with torch.no_grad():
        try:
            model_call(*inputs())
        except Exception:  # fla's own path may not run on this machine
            pass
    assert calls == [], "FLA_KDA=0 did not keep the call away from kda"


def test_gradients_stay_with_fla(calls):
    q, *rest = inputs()
    try:
        model_call(q.requires_grad_(), *rest)
    except Exception:
        pass
    assert calls == [], "a call that needs gradients reached kda"


@pytest.mark.parametrize("extra,reason", [
    (dict(cp_context=object()), "context parallelism"),
    (dict(use_graph=True), "CUDA-graph"),
    (dict(head_first=False), "does not take ['head_first']"),
])
def test_refusals_name_the_reason(extra, reason):
    q, k, v, g, beta, *_ = inputs()
    refusal = fla_backend._refusal(q, k, v, g, beta, **extra)
    assert refusal is not None and reason in refusal, refusal


def test_accepts_what_it_runs():
    q, k, v, g, beta, A_log, dt_bias = inputs()
    assert fla_backend._refusal(q, k, v, g, beta, A_log=A_log, dt_bias=dt_bias,
                                use_gate_in_kernel=True) is None
