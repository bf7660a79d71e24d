"""`decode`: one token per sequence against a pool of states (the dialect's
kda.decode; fla's fused_recurrent_kda with ssm_state_indices, as vLLM
serves it). CPU tensors run the exact reference; CUDA tensors the compiled
decode kernel on torch's current stream.
"""

import torch

from . import _gpu, _lib
from .ops import (_ACTIVATION_DTYPES, _GATE_STATE_DTYPES, _INDEX_DTYPES, _beta_mode,
                  _flag, _gate_mode, _set_inputs, _shape, _tensor)


def decode(q, k, v, g, beta, state_pool, state_indices, *, scale=None,
           A_log=None, dt_bias=None, use_qk_l2norm_in_kernel=False,
           use_gate_in_kernel=False, use_beta_sigmoid_in_kernel=False,
           allow_neg_eigval=False, lower_bound=None, state_v_first=False,
           validate_indices=True):
    """Advances state_pool[state_indices[n]] by sequence n's token, in place,
    and returns o [N, HV, V] in q's dtype.

    q, k: [N, H, K]; v: [N, HV, V]; g: [N, HV, K]; beta: [N, HV];
    state_pool: [P, HV, K, V] ([P, HV, V, K] with `state_v_first`), fp32,
    bf16 or fp64; state_indices: [N] int32/int64, distinct, a negative index
    marks a padding row (its o row is zero, no state is touched). The gate
    and beta flags mean what they mean for chunk_kda.

    On CUDA: q, k, v bf16, the pool fp32 and 16-byte aligned; the indices are checked on a host
    copy unless `validate_indices=False` (no device sync: the caller then
    guarantees they are distinct and below P).
    """
    for name, value in (("use_qk_l2norm_in_kernel", use_qk_l2norm_in_kernel),
                        ("use_gate_in_kernel", use_gate_in_kernel),
                        ("use_beta_sigmoid_in_kernel", use_beta_sigmoid_in_kernel),
                        ("allow_neg_eigval", allow_neg_eigval),
                        ("state_v_first", state_v_first)):
        _flag(name, value)
    _tensor("q", q, _ACTIVATION_DTYPES, (3,))
    N, H, K = q.shape
    _tensor("k", k, _ACTIVATION_DTYPES, (3,))
    _shape("k", k, q.shape, "[N, H, K] of q")
    _tensor("v", v, _ACTIVATION_DTYPES, (3,))
    if k.dtype != q.dtype or v.dtype != q.dtype:
        raise TypeError(f"k and v must have q's dtype {q.dtype}")
    if v.shape[0] != N:
        raise ValueError(f"v must have shape [N, HV, V] with N = {N}, got {tuple(v.shape)}")
    HV, V = v.shape[1], v.shape[2]
    _tensor("g", g, _GATE_STATE_DTYPES, (3,))
    _shape("g", g, (N, HV, K), "[N, HV, K]")
    _tensor("beta", beta, _GATE_STATE_DTYPES, (2,))
    _shape("beta", beta, (N, HV), "[N, HV]")
    _tensor("state_pool", state_pool, _GATE_STATE_DTYPES, (4,))
    P = state_pool.shape[0]
    _shape("state_pool", state_pool, (P, HV, V, K) if state_v_first else (P, HV, K, V),
           "[P, HV, V, K]" if state_v_first else "[P, HV, K, V]")
    _tensor("state_indices", state_indices, _INDEX_DTYPES, (1,))
    _shape("state_indices", state_indices, (N,), "[N]")
    for name, x in (("A_log", A_log), ("dt_bias", dt_bias)):
        if x is not None:
            _tensor(name, x, {torch.float32: 0}, (1, 2))
    tensors = {"q": q, "k": k, "v": v, "g": g, "beta": beta, "state_pool": state_pool,
               "state_indices": state_indices, "A_log": A_log, "dt_bias": dt_bias}
    for name, x in tensors.items():
        if x is not None and x.device != q.device:
            raise ValueError(f"{name} is on {x.device}, but q is on {q.device}")
    if q.device.type not in ("cpu", "cuda"):
        raise NotImplementedError(f"kda.decode: tensors on {q.device}: kda runs on "
                                  "CPU and CUDA")
    if not state_pool.is_contiguous():
        raise ValueError("state_pool must be contiguous (it is updated in place)")
    if allow_neg_eigval and not use_beta_sigmoid_in_kernel:
        raise ValueError("allow_neg_eigval=True requires use_beta_sigmoid_in_kernel=True")

    if q.device.type == "cuda":
        if q.dtype != torch.bfloat16 or state_pool.dtype != torch.float32:
            raise NotImplementedError("kda's GPU decode kernel takes bfloat16 q, k, v "
                                      "and a float32 state pool so far")
        if state_pool.data_ptr() % 16:
            raise ValueError("state_pool must start at a 16-byte aligned address on "
                             "CUDA (the kernel moves the states in 16-byte vectors), "
                             f"got {state_pool.data_ptr():#x}")
        if validate_indices:
            _check_indices(state_indices.cpu(), P)
        g, beta = g.float(), beta.float()
    c = {name: (x.contiguous() if x is not None else None) for name, x in
         (("q", q), ("k", k), ("v", v), ("g", g), ("beta", beta),
          ("state_indices", state_indices), ("A_log", A_log), ("dt_bias", dt_bias))}
    o = torch.empty((N, HV, V), dtype=q.dtype, device=q.device)
    args = _lib.decode_args()
    args.num_seqs, args.num_heads, args.num_value_heads = N, H, HV
    args.head_dim_k, args.head_dim_v, args.pool_size = K, V, P
    _set_inputs(args, c)
    args.state_indices = _lib.tensor(c["state_indices"], _INDEX_DTYPES[state_indices.dtype])
    args.state_pool = _lib.tensor(state_pool, _GATE_STATE_DTYPES[state_pool.dtype])
    args.o = _lib.tensor(o, _ACTIVATION_DTYPES[q.dtype])
    args.scale = float(scale) if scale is not None else 0.0
    args.gate = _gate_mode(use_gate_in_kernel, lower_bound)
    args.lower_bound = float(lower_bound) if args.gate == _lib.GATE_LOWER_BOUND else 0.0
    args.qk_l2norm = int(use_qk_l2norm_in_kernel)
    args.beta_mode = _beta_mode(use_beta_sigmoid_in_kernel, allow_neg_eigval)
    args.state_layout = _lib.STATE_VK if state_v_first else _lib.STATE_KV
    if q.device.type == "cuda":
        wanted = {"op": "decode", "pool_dtype": "f32",
                  **_gpu.choice_entries(K, V, torch.float32, torch.float32, args.gate,
                                        args.beta_mode, use_qk_l2norm_in_kernel,
                                        state_v_first)}
        bundle = _gpu._bundle(q.device.index, _gpu.find_bundle(wanted))
        with torch.cuda.device(q.device):
            bundle.decode(args, torch.cuda.current_stream(q.device).cuda_stream)
        return o
    try:
        _lib.reference_decode(args)
    except _lib.KDAError as error:
        raise ValueError(str(error)) from None
    return o


def _check_indices(indices, P):
    """Distinct and below P, or negative (padding): the kernel trusts them."""
    seen = set()
    for n, index in enumerate(indices.tolist()):
        if index >= P:
            raise ValueError(f"state_indices must be < pool_size (P = {P}), got "
                             f"state_indices[{n}] = {index}")
        if index >= 0 and index in seen:
            raise ValueError(f"state_indices must be distinct, {index} repeats")
        seen.add(index)
