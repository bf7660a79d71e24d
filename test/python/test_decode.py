"""kda.decode on CPU: one token per sequence against a state pool equals
chunk_kda on that token from the pool's state; padding rows and the other
slots are untouched; bad arguments are named."""

import pytest
import torch

import kda


def setup(N=4, P=6, H=2, HV=4, K=8, V=4, v_first=False):
    gen = torch.Generator().manual_seed(1)
    q = torch.randn(N, H, K, generator=gen)
    k = torch.randn(N, H, K, generator=gen)
    v = torch.randn(N, HV, V, generator=gen)
    g = torch.randn(N, HV, K, generator=gen)
    beta = torch.randn(N, HV, generator=gen)
    pool = torch.randn(P, HV, V, K, generator=gen) if v_first else torch.randn(
        P, HV, K, V, generator=gen)
    return q, k, v, g, beta, pool, torch.rand(HV, generator=gen), torch.rand(HV * K, generator=gen)


@pytest.mark.parametrize("v_first", [False, True])
def test_decode_equals_one_token_of_chunk_kda(v_first):
    q, k, v, g, beta, pool, A_log, dt_bias = setup(v_first=v_first)
    before = pool.clone()
    indices = torch.tensor([5, -1, 0, 2])
    flags = dict(use_qk_l2norm_in_kernel=True, use_gate_in_kernel=True,
                 use_beta_sigmoid_in_kernel=True, state_v_first=v_first)
    o = kda.decode(q, k, v, g, beta, pool, indices, A_log=A_log, dt_bias=dt_bias, **flags)
    for n, slot in enumerate(indices.tolist()):
        if slot < 0:
            assert torch.equal(o[n], torch.zeros_like(o[n]))
            continue
        o_ref, s_ref = kda.chunk_kda(q[n][None, None], k[n][None, None], v[n][None, None],
                                     g[n][None, None], beta[n][None, None],
                                     initial_state=before[slot][None], output_final_state=True,
                                     A_log=A_log, dt_bias=dt_bias, **flags)
        assert torch.equal(o[n], o_ref[0, 0]), n
        assert torch.equal(pool[slot], s_ref[0]), n
    for slot in (1, 3, 4):
        assert torch.equal(pool[slot], before[slot])


@pytest.mark.parametrize("change,exception,text", [
    (dict(state_indices=torch.tensor([0, 0, 1, 2])), ValueError, "must be distinct"),
    (dict(state_indices=torch.tensor([0, 9, 1, 2])), ValueError, "must be < pool_size"),
    (dict(state_indices=torch.tensor([0, 1, 2])), ValueError, "state_indices must have shape"),
    (dict(state_indices=torch.tensor([0.0, 1, 2, 3])), TypeError, "state_indices must have dtype"),
    (dict(state_pool=torch.zeros(6, 4, 4, 4)), ValueError, "state_pool must have shape"),
    (dict(g=torch.zeros(4, 4, 4)), ValueError, "g must have shape"),
    (dict(q=torch.zeros(4, 2, 8, dtype=torch.int32)), TypeError, "q must have dtype"),
    (dict(state_pool=torch.zeros(6, 4, 8, 4, device="meta")), ValueError,
     "state_pool is on meta"),
])
def test_bad_arguments_are_named(change, exception, text):
    q, k, v, g, beta, pool, _, _ = setup()
    args = dict(q=q, k=k, v=v, g=g, beta=beta, state_pool=pool,
                state_indices=torch.tensor([0, 1, 2, 3]))
    args.update(change)
    before = args["state_pool"].clone() if args["state_pool"].device.type == "cpu" else None
    with pytest.raises(exception) as info:
        kda.decode(**args)
    assert text in str(info.value), str(info.value)
    if before is not None:
        assert torch.equal(args["state_pool"], before), "a refused call wrote the pool"
