"""kda.chunk_kda's argument handling: fla's call shape, outputs, and a clear
TypeError/ValueError naming the argument for everything it cannot take."""

import pytest
import torch

import kda
from accuracy import rel_rms


def inputs(B=1, T=12, H=2, HV=4, K=16, V=8, dtype=torch.float32):
    gen = torch.Generator().manual_seed(0)
    q = torch.randn(B, T, H, K, generator=gen).to(dtype)
    k = torch.randn(B, T, H, K, generator=gen).to(dtype)
    v = torch.randn(B, T, HV, V, generator=gen).to(dtype)
    g = -torch.rand(B, T, HV, K, generator=gen) / 4
    beta = torch.rand(B, T, HV, generator=gen)
    return q, k, v, g, beta


def test_outputs_follow_fla():
    q, k, v, g, beta = inputs(dtype=torch.bfloat16)
    o, s = kda.chunk_kda(q, k, v, g, beta)
    assert o.shape == (1, 12, 4, 8) and o.dtype == torch.bfloat16 and s is None
    o, s = kda.chunk_kda(q, k, v, g, beta, output_final_state=True)
    assert s.shape == (1, 4, 16, 8) and s.dtype == torch.float32
    _, s = kda.chunk_kda(q, k, v, g, beta, output_final_state=True, state_v_first=True)
    assert s.shape == (1, 4, 8, 16)
    assert torch.isfinite(o.float()).all()


def test_final_state_takes_the_initial_states_dtype():
    q, k, v, g, beta = inputs()
    for dtype in (torch.float32, torch.bfloat16, torch.float64):
        s0 = torch.randn(1, 4, 16, 8).to(dtype)
        _, s = kda.chunk_kda(q, k, v, g, beta, initial_state=s0, output_final_state=True)
        assert s.dtype == dtype


def test_intermediate_states_are_prefix_states():
    """Entry c is the final state of the first c * chunk_size tokens."""
    q, k, v, g, beta = inputs(T=40)
    s0 = torch.randn(1, 4, 16, 8)
    o, s, h = kda.chunk_kda(q, k, v, g, beta, initial_state=s0, output_final_state=True,
                            return_intermediate_states=True, chunk_size=16)
    assert h.shape == (1, 3, 4, 16, 8) and h.dtype == torch.float32
    for c in range(3):
        _, prefix = kda.chunk_kda(q[:, :16 * c], k[:, :16 * c], v[:, :16 * c],
                                  g[:, :16 * c], beta[:, :16 * c], initial_state=s0,
                                  output_final_state=True)
        assert torch.equal(h[0, c], prefix[0]), c
    # varlen: 17 tokens -> 2 entries, 0 -> none, 23 -> 2
    _, _, hv = kda.chunk_kda(q, k, v, g, beta, cu_seqlens=torch.tensor([0, 17, 17, 40]),
                             return_intermediate_states=True, chunk_size=16,
                             state_v_first=True)
    assert hv.shape == (1, 4, 4, 8, 16)


def test_dtypes_agree_with_float64():
    """bf16/fp16/fp32 inputs give the float64 result of the same values,
    rounded once."""
    q, k, v, g, beta = inputs()
    for dtype in (torch.bfloat16, torch.float16, torch.float32):
        q1, k1, v1 = q.to(dtype), k.to(dtype), v.to(dtype)
        o, _ = kda.chunk_kda(q1, k1, v1, g, beta)
        o64, _ = kda.chunk_kda(q1.double(), k1.double(), v1.double(), g.double(), beta.double())
        assert torch.equal(o, o64.to(dtype)), dtype


def test_scale_and_chunk_size():
    q, k, v, g, beta = inputs()
    o_default, _ = kda.chunk_kda(q, k, v, g, beta)
    o_explicit, _ = kda.chunk_kda(q, k, v, g, beta, scale=16 ** -0.5, chunk_size=32)
    assert torch.equal(o_default, o_explicit)
    o_double, _ = kda.chunk_kda(q, k, v, g, beta, scale=2 * 16 ** -0.5)
    assert rel_rms(2 * o_default, o_double) < 1e-6


def test_inputs_are_not_modified():
    q, k, v, g, beta = inputs()
    s0 = torch.randn(1, 4, 16, 8)
    copies = [x.clone() for x in (q, k, v, g, beta, s0)]
    kda.chunk_kda(q, k, v, g, beta, initial_state=s0, output_final_state=True)
    with pytest.raises(ValueError):
        kda.chunk_kda(q, k, v, g, beta, initial_state=s0, scale=-1.0)
    for before, after in zip(copies, (q, k, v, g, beta, s0)):
        assert torch.equal(before, after)


def test_non_contiguous_inputs():
    q, k, v, g, beta = inputs()
    qt = q.transpose(1, 2).contiguous().transpose(1, 2)
    assert not qt.is_contiguous()
    assert torch.equal(kda.chunk_kda(qt, k, v, g, beta)[0], kda.chunk_kda(q, k, v, g, beta)[0])


def call(**overrides):
    q, k, v, g, beta = inputs()
    args = dict(q=q, k=k, v=v, g=g, beta=beta)
    args.update(overrides)
    return kda.chunk_kda(**args)


F32 = torch.float32
BAD_ARGUMENTS = [
    # overrides, exception, text the message must contain
    (dict(q=[1.0]), TypeError, "q must be a torch.Tensor"),
    (dict(q=torch.zeros(1, 12, 2, 16, dtype=torch.int32)), TypeError, "q must have dtype"),
    (dict(q=torch.zeros(12, 2, 16)), ValueError, "q must have 4 dimensions"),
    (dict(k=torch.zeros(1, 12, 2, 8)), ValueError, "k must have shape"),
    (dict(k=torch.zeros(1, 12, 2, 16, dtype=torch.float64)), TypeError, "k must have q's dtype"),
    (dict(v=torch.zeros(1, 12, 4, 8, dtype=torch.float16)), TypeError, "v must have q's dtype"),
    (dict(v=torch.zeros(1, 11, 4, 8)), ValueError, "v must have shape"),
    (dict(v=torch.zeros(1, 12, 3, 8), g=torch.zeros(1, 12, 3, 16),
          beta=torch.zeros(1, 12, 3)), ValueError, "multiple of H"),
    (dict(q=torch.zeros(1, 12, 2, 300), k=torch.zeros(1, 12, 2, 300),
          g=torch.zeros(1, 12, 4, 300)), ValueError, "head size K"),
    (dict(v=torch.zeros(1, 12, 4, 257)), ValueError, "head size V"),
    (dict(g=torch.zeros(1, 12, 4, 8)), ValueError, "g must have shape"),
    (dict(g=torch.zeros(1, 12, 4, 16, dtype=torch.float16)), TypeError, "g must have dtype"),
    (dict(beta=torch.zeros(1, 12, 4, 1)), ValueError, "beta must have 3 dimensions"),
    (dict(beta=torch.zeros(1, 12, 2)), ValueError, "beta must have shape"),
    (dict(scale=0.0), ValueError, "scale must be positive"),
    (dict(scale=float("nan")), ValueError, "scale must be positive"),
    (dict(scale="1"), TypeError, "scale must be a float"),
    (dict(chunk_size=128), ValueError, "chunk_size"),
    (dict(output_final_state=1), TypeError, "output_final_state must be a bool"),
    (dict(initial_state=torch.zeros(1, 4, 8, 16)), ValueError, "initial_state must have shape"),
    (dict(initial_state=torch.zeros(1, 4, 16, 8, dtype=torch.float16)), TypeError,
     "initial_state must have dtype"),
    (dict(initial_state=torch.zeros(2, 4, 16, 8)), ValueError, "initial_state must have shape"),
    (dict(A_log=torch.zeros(4)), ValueError, "A_log is only used"),
    (dict(dt_bias=torch.zeros(64)), ValueError, "dt_bias is only used"),
    (dict(use_gate_in_kernel=True), ValueError, "A_log is required"),
    (dict(use_gate_in_kernel=True, A_log=torch.zeros(3)), ValueError, "A_log must have shape"),
    (dict(use_gate_in_kernel=True, A_log=torch.zeros(4, dtype=torch.bfloat16)), TypeError,
     "A_log must have dtype"),
    (dict(use_gate_in_kernel=True, A_log=torch.zeros(4), dt_bias=torch.zeros(63)), ValueError,
     "dt_bias must have shape"),
    (dict(use_gate_in_kernel=True, lower_bound=-6.0), ValueError, "lower_bound must be in"),
    (dict(use_gate_in_kernel=True, lower_bound=0.0), ValueError, "lower_bound must be in"),
    (dict(use_gate_in_kernel=True, lower_bound="x"), TypeError, "lower_bound must be a float"),
    (dict(use_gate_in_kernel=True, A_log=torch.zeros(4), safe_gate=True), ValueError,
     "safe_gate=True with use_gate_in_kernel=True requires lower_bound"),
    (dict(lower_bound=-5.0), ValueError, "lower_bound with a precomputed gate"),
    (dict(allow_neg_eigval=True), ValueError, "allow_neg_eigval=True requires"),
    (dict(cu_seqlens=torch.tensor([0, 12.0])), TypeError, "cu_seqlens must have dtype"),
    (dict(cu_seqlens=torch.tensor([0])), ValueError, "cu_seqlens must have N + 1 >= 2"),
    (dict(cu_seqlens=torch.tensor([0, 5, 11])), ValueError, "must end at seq_len"),
    (dict(cu_seqlens=torch.tensor([0, 7, 5, 12])), ValueError, "non-decreasing"),
    (dict(cu_seqlens=torch.tensor([0, 12]), cu_seqlens_cpu=torch.tensor([0, 11])), ValueError,
     "cu_seqlens_cpu must equal cu_seqlens"),
    (dict(cu_seqlens_cpu=torch.tensor([0, 12])), ValueError, "cu_seqlens_cpu is given without"),
    (dict(cu_seqlens=torch.tensor([0, 12]), cu_seqlens_cpu=torch.tensor([0, 6, 12])), ValueError,
     "cu_seqlens_cpu must have cu_seqlens' 2 entries, got 3"),
    (dict(cp_context=object()), NotImplementedError, "cp_context"),
    (dict(state_v_first=True, transpose_state_layout=False), ValueError, "contradicts"),
    (dict(head_first=True), TypeError, "head_first"),
    (dict(k=torch.zeros(1, 12, 2, 16, device="meta")), ValueError, "k is on meta"),
]


@pytest.mark.parametrize("overrides,exception,text", BAD_ARGUMENTS,
                         ids=[b[2] for b in BAD_ARGUMENTS])
def test_bad_argument_is_named(overrides, exception, text):
    with pytest.raises(exception) as info:
        call(**overrides)
    assert text in str(info.value), str(info.value)


def test_cu_seqlens_requires_batch_one():
    q, k, v, g, beta = inputs(B=2)
    with pytest.raises(ValueError, match="cu_seqlens requires B == 1"):
        kda.chunk_kda(q, k, v, g, beta, cu_seqlens=torch.tensor([0, 24]))


def test_non_cpu_tensors_are_refused():
    q, k, v, g, beta = (x.to("meta") for x in inputs())
    with pytest.raises(NotImplementedError, match="kda runs on CPU"):
        kda.chunk_kda(q, k, v, g, beta)


def test_forward_only():
    q, k, v, g, beta = inputs()
    with pytest.raises(NotImplementedError, match="forward-only"):
        kda.chunk_kda(q.requires_grad_(), k, v, g, beta)
    with torch.no_grad():
        kda.chunk_kda(q, k, v, g, beta)


def test_c_errors_surface_with_their_status():
    """Errors only the C library sees (cu_seqlens values) keep its message."""
    with pytest.raises(ValueError, match="KDA_ERR_INVALID_ARGUMENT: argument 'cu_seqlens'"):
        call(cu_seqlens=torch.tensor([1, 12]))


@pytest.mark.parametrize("ctas, V, sms, expected", [
    (16, 128, 132, (2, 6)),   # T=65536 H=16: 16 clusters of 6, 96 CTAs
    (17, 128, 132, (2, 3)),   # clusters of 6 would take more than 3/4 of the SMs
    (32, 128, 132, (2, 3)),   # T=32768 H=32: 32 clusters of 3, 96 CTAs
    (34, 128, 132, (2, 2)),   # clusters of 3 would take more than 3/4 of the SMs
    (66, 128, 132, (2, 2)),   # the largest grid whose split still fits one wave
    (67, 128, 132, (1, 0)),
    (96, 128, 132, (1, 0)),   # T=8192 H=96: a second wave would cost more
    (16, 64, 132, (1, 0)),    # V = 64 is one state warpgroup's rows already
    (16, 256, 132, (2, 2)),   # V = 256: two CTAs of 128 rows, however many waves
    (768, 256, 132, (2, 2)),
])
def test_head_split_while_one_wave_holds_it(ctas, V, sms, expected, monkeypatch):
    from kda import _gpu
    monkeypatch.delenv("KDA_VALUE_BLOCKS", raising=False)
    monkeypatch.delenv("KDA_CLUSTER_CTAS", raising=False)
    assert _gpu.head_split(ctas, V, sms) == expected


def test_head_split_override(monkeypatch):
    from kda import _gpu
    monkeypatch.delenv("KDA_CLUSTER_CTAS", raising=False)
    monkeypatch.setenv("KDA_VALUE_BLOCKS", "1")
    assert _gpu.head_split(16, 128, 132) == (1, 0)
    assert _gpu.head_split(16, 256, 132) == (2, 2)  # no CTA holds 256 rows
    monkeypatch.setenv("KDA_VALUE_BLOCKS", "2")
    assert _gpu.head_split(96, 128, 132) == (2, 2)
    assert _gpu.head_split(96, 64, 132) == (1, 0)
    monkeypatch.setenv("KDA_CLUSTER_CTAS", "6")
    assert _gpu.head_split(96, 128, 132) == (2, 6)
    monkeypatch.setenv("KDA_CLUSTER_CTAS", "3")
    assert _gpu.head_split(96, 128, 132) == (2, 3)
    monkeypatch.setenv("KDA_CLUSTER_CTAS", "4")  # not shipped: the front's choice
    assert _gpu.head_split(16, 128, 132) == (2, 6)
    monkeypatch.setenv("KDA_CLUSTER_CTAS", "2")
    assert _gpu.head_split(16, 128, 132) == (2, 2)
    monkeypatch.setenv("KDA_VALUE_BLOCKS", "1")
    assert _gpu.head_split(16, 128, 132) == (1, 0)


F32, BF16 = torch.float32, torch.bfloat16


@pytest.mark.parametrize("N, T, HV, K, V, intermediate, v_first, state, expected", [
    (1, 65536, 16, 128, 128, 0, True, F32, True),     # the benchmark's row: 4 segments
    (1, 8192, 16, 128, 128, 0, True, F32, True),      # the shortest it takes
    (1, 8191, 16, 128, 128, 0, True, F32, False),
    (1, 65536, 8, 128, 128, 0, True, F32, True),      # 8 segments
    (1, 65536, 32, 128, 128, 0, True, F32, False),    # 2 segments: slower than the chain
    (1, 65536, 17, 128, 128, 0, True, F32, False),    # 3 segments
    (2, 65536, 16, 128, 128, 0, True, F32, False),    # two sequences
    (1, 65536, 16, 64, 64, 0, True, F32, False),      # shipped at K = V = 128 only
    (1, 65536, 16, 128, 256, 0, True, F32, False),
    (1, 65536, 16, 128, 128, 64, True, F32, False),   # intermediate states
    (1, 65536, 16, 128, 128, 0, False, F32, False),   # kv layout
    (1, 65536, 16, 128, 128, 0, True, BF16, False),   # bf16 states
])
def test_segment_scan_choice(N, T, HV, K, V, intermediate, v_first, state, expected,
                             monkeypatch):
    from kda import _gpu
    monkeypatch.delenv("KDA_SEGMENT_SCAN", raising=False)
    assert _gpu.use_segment_scan(N, T, HV, K, V, intermediate, v_first, state, 132) == expected


def test_segment_scan_override(monkeypatch):
    from kda import _gpu
    monkeypatch.setenv("KDA_SEGMENT_SCAN", "1")
    assert _gpu.use_segment_scan(1, 100, 32, 128, 128, 0, True, F32, 132)  # 2 segments
    assert _gpu.use_segment_scan(1, 100, 33, 128, 128, 0, True, F32, 132)  # 2 segments
    assert not _gpu.use_segment_scan(1, 100, 34, 128, 128, 0, True, F32, 132)  # 1 segment
    assert not _gpu.use_segment_scan(2, 100, 2, 128, 128, 0, True, F32, 132)
    monkeypatch.setenv("KDA_SEGMENT_SCAN", "0")
    assert not _gpu.use_segment_scan(1, 65536, 16, 128, 128, 0, True, F32, 132)


def test_kernel_chunk_size(monkeypatch):
    from kda import _gpu
    monkeypatch.delenv("KDA_CHUNK_SIZE", raising=False)
    assert _gpu.kernel_chunk_size(0) == 16
    monkeypatch.setenv("KDA_CHUNK_SIZE", "32")
    assert _gpu.kernel_chunk_size(0) == 32
    assert _gpu.kernel_chunk_size(64) == 32
    assert _gpu.kernel_chunk_size(16) == 16  # intermediate states every 16 tokens
    assert _gpu.kernel_chunk_size(48) == 16
    monkeypatch.setenv("KDA_CHUNK_SIZE", "16")
    assert _gpu.kernel_chunk_size(64) == 16
    for bad in ("64", "0", "x", ""):
        monkeypatch.setenv("KDA_CHUNK_SIZE", bad)
        with pytest.raises(ValueError, match=r"\$KDA_CHUNK_SIZE must be one of \(16, 32\)"):
            _gpu.kernel_chunk_size(0)


def test_wanted_manifest_names_the_chunk_size():
    from kda import _gpu
    q = torch.empty(1, 1, 1, 128, dtype=torch.bfloat16)
    args = (q, q, torch.float32, torch.float32, 0, 0, False, False, torch.float32)
    assert _gpu.wanted_manifest(*args)["chunk_size"] == "16"
    assert _gpu.wanted_manifest(*args, chunk_size=32)["chunk_size"] == "32"


@pytest.mark.parametrize("lengths, batched", [
    ([1024] * 8, True),      # FlashKDA's 8 x 1024
    ([5, 5], True),
    ([1024, 1023, 1], False),
    ([7], False),            # one sequence: left to the segment scan's rule
    ([0, 0], False),         # empty sequences: no tile to load either way
])
def test_equal_lengths_run_as_a_fixed_batch(lengths, batched):
    from kda import ops
    T, H, HV, K = sum(lengths), 2, 4, 8
    cu = torch.tensor([0] + list(torch.tensor(lengths).cumsum(0)), dtype=torch.int64)
    q, k = torch.randn(1, T, H, K), torch.randn(1, T, H, K)
    v, g, beta = torch.randn(1, T, HV, K), torch.randn(1, T, HV, K), torch.randn(1, T, HV)
    out = ops._equal_lengths_as_batch(q, k, v, g, beta, cu, cu)
    if not batched:
        assert out[5] is cu and all(x is y for x, y in zip(out, (q, k, v, g, beta)))
        return
    N, L = len(lengths), lengths[0]
    assert out[5] is None
    for x, y in zip(out, (q, k, v, g, beta)):
        assert x.shape == (N, L) + y.shape[2:] and torch.equal(x.reshape(y.shape), y)
