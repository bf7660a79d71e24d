"""`chunk_kda`: flash-linear-attention's call, served by kda.

Arguments follow fla's `chunk_kda` (spec §6). Every argument is checked here
and a wrong one raises TypeError or ValueError naming it; an argument kda
cannot honour raises rather than being ignored. CPU tensors run the exact
float64 reference of the C library.
"""

import math

import torch

from . import _gpu, _lib

_ACTIVATION_DTYPES = {
    torch.float32: _lib.DTYPE_FLOAT32,
    torch.bfloat16: _lib.DTYPE_BFLOAT16,
    torch.float16: _lib.DTYPE_FLOAT16,
    torch.float64: _lib.DTYPE_FLOAT64,
}
# Gates, beta and states: no float16 (spec §1).
_GATE_STATE_DTYPES = {
    torch.float32: _lib.DTYPE_FLOAT32,
    torch.bfloat16: _lib.DTYPE_BFLOAT16,
    torch.float64: _lib.DTYPE_FLOAT64,
}
_INDEX_DTYPES = {torch.int32: _lib.DTYPE_INT32, torch.int64: _lib.DTYPE_INT64}
_CHUNK_SIZES = (16, 32, 64)
_MIN_LOWER_BOUND = -5.0
_MAX_HEAD_SIZE = 256


def _names(dtypes):
    return ", ".join(str(d).replace("torch.", "") for d in dtypes)


def _tensor(name, x, dtypes, ndim):
    """Checks that `x` is a tensor of one of `dtypes` with `ndim` dims."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dtype not in dtypes:
        raise TypeError(f"{name} must have dtype {_names(dtypes)}, got "
                        f"{str(x.dtype).replace('torch.', '')}")
    if x.dim() not in ndim:
        want = " or ".join(str(n) for n in ndim)
        raise ValueError(f"{name} must have {want} dimensions, got shape "
                         f"{tuple(x.shape)}")
    return x


def _shape(name, x, expected, symbols):
    if tuple(x.shape) != tuple(expected):
        raise ValueError(f"{name} must have shape {symbols} = "
                         f"{tuple(expected)}, got {tuple(x.shape)}")


def _flag(name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


def _gate_mode(use_gate_in_kernel, lower_bound):
    """The runtime's gate mode for the gate arguments fla's functions take."""
    if not use_gate_in_kernel:
        return _lib.GATE_PRECOMPUTED
    return _lib.GATE_SOFTPLUS if lower_bound is None else _lib.GATE_LOWER_BOUND


def _beta_mode(use_beta_sigmoid_in_kernel, allow_neg_eigval):
    """The runtime's beta mode for the beta arguments fla's functions take."""
    if allow_neg_eigval:
        return _lib.BETA_SIGMOID_NEG_EIGVAL
    return _lib.BETA_SIGMOID if use_beta_sigmoid_in_kernel else _lib.BETA_PLAIN


def _set_inputs(args, c):
    """Points forward or decode `args` at the contiguous inputs `c` shares."""
    args.q = _lib.tensor(c["q"], _ACTIVATION_DTYPES[c["q"].dtype])
    args.k = _lib.tensor(c["k"], _ACTIVATION_DTYPES[c["q"].dtype])
    args.v = _lib.tensor(c["v"], _ACTIVATION_DTYPES[c["q"].dtype])
    args.g = _lib.tensor(c["g"], _GATE_STATE_DTYPES[c["g"].dtype])
    args.beta = _lib.tensor(c["beta"], _GATE_STATE_DTYPES[c["beta"].dtype])
    if c["A_log"] is not None:
        args.A_log = _lib.tensor(c["A_log"], _lib.DTYPE_FLOAT32)
    if c["dt_bias"] is not None:
        args.dt_bias = _lib.tensor(c["dt_bias"], _lib.DTYPE_FLOAT32)


def chunk_kda(q, k, v, g, beta, scale=None, initial_state=None,
              output_final_state=False, use_qk_l2norm_in_kernel=False,
              use_gate_in_kernel=False, use_beta_sigmoid_in_kernel=False,
              allow_neg_eigval=False, safe_gate=False, lower_bound=None,
              disable_recompute=False, return_intermediate_states=False,
              state_v_first=False, cu_seqlens=None, cu_seqlens_cpu=None,
              cp_context=None, A_log=None, dt_bias=None, chunk_size=64,
              transpose_state_layout=None):
    """Kimi Delta Attention forward, as fla's `chunk_kda`.

    q, k: [B, T, H, K]; v: [B, T, HV, V]; g: [B, T, HV, K] (the log decay, or
    the raw gate with `use_gate_in_kernel`); beta: [B, T, HV]. Returns
    `(o, final_state)`: o is [B, T, HV, V] in q's dtype; final_state is
    [N, HV, K, V] ([N, HV, V, K] with `state_v_first`) in initial_state's
    dtype (float32 without one, float64 for float64 inputs) when
    `output_final_state`, else None.

    Gate: `use_gate_in_kernel` with `lower_bound=None` is the softplus gate
    `-exp(A_log) * softplus(g + dt_bias)` (A_log required); with
    `lower_bound` in [-5, 0) it is `lower_bound * sigmoid(exp(A_log) *
    (g + dt_bias))` (A_log optional). Beta: `use_beta_sigmoid_in_kernel`
    applies sigmoid, and `allow_neg_eigval` doubles it.

    With `return_intermediate_states`, a third result holds the state
    entering every `chunk_size`-token chunk of every sequence: [B, NT, HV, K,
    V] ([.., V, K] with `state_v_first`), NT = ceil(T / chunk_size); for
    varlen [1, NT_total, ...], each sequence contributing ceil(len /
    chunk_size) entries. Its dtype is q's (fp32 for fp16 q).

    Forward only: inputs that require grad raise NotImplementedError.
    """
    # --- flags --------------------------------------------------------------
    for name, value in (("output_final_state", output_final_state),
                        ("use_qk_l2norm_in_kernel", use_qk_l2norm_in_kernel),
                        ("use_gate_in_kernel", use_gate_in_kernel),
                        ("use_beta_sigmoid_in_kernel", use_beta_sigmoid_in_kernel),
                        ("allow_neg_eigval", allow_neg_eigval),
                        ("safe_gate", safe_gate),
                        ("disable_recompute", disable_recompute),
                        ("return_intermediate_states", return_intermediate_states),
                        ("state_v_first", state_v_first)):
        _flag(name, value)
    if transpose_state_layout is not None:
        # fla's deprecated spelling of state_v_first.
        if state_v_first and not _flag("transpose_state_layout",
                                       transpose_state_layout):
            raise ValueError("transpose_state_layout=False contradicts "
                             "state_v_first=True")
        state_v_first = transpose_state_layout
    if cp_context is not None:
        raise NotImplementedError("cp_context (context parallelism) is not "
                                  "supported by kda")
    if allow_neg_eigval and not use_beta_sigmoid_in_kernel:
        raise ValueError("allow_neg_eigval=True requires "
                         "use_beta_sigmoid_in_kernel=True")
    if isinstance(chunk_size, bool) or chunk_size not in _CHUNK_SIZES:
        raise ValueError(f"chunk_size must be one of {_CHUNK_SIZES}, got "
                         f"{chunk_size!r}")

    # --- tensors ------------------------------------------------------------
    _tensor("q", q, _ACTIVATION_DTYPES, (4,))
    B, T, H, K = q.shape
    _tensor("k", k, _ACTIVATION_DTYPES, (4,))
    _shape("k", k, q.shape, "[B, T, H, K] of q")
    if k.dtype != q.dtype:
        raise TypeError(f"k must have q's dtype {q.dtype}, got {k.dtype}")
    _tensor("v", v, _ACTIVATION_DTYPES, (4,))
    if v.dtype != q.dtype:
        raise TypeError(f"v must have q's dtype {q.dtype}, got {v.dtype}")
    if tuple(v.shape[:2]) != (B, T):
        raise ValueError(f"v must have shape [B, T, HV, V] with B, T = {B}, "
                         f"{T} of q, got {tuple(v.shape)}")
    HV, V = v.shape[2], v.shape[3]
    if H < 1 or HV < 1 or HV % H != 0:
        raise ValueError(f"v has HV = {HV} value heads, which must be a "
                         f"positive multiple of H = {H} (the heads of q)")
    if not 1 <= K <= _MAX_HEAD_SIZE:
        raise ValueError(f"q's head size K must be in [1, {_MAX_HEAD_SIZE}], "
                         f"got {K}")
    if not 1 <= V <= _MAX_HEAD_SIZE:
        raise ValueError(f"v's head size V must be in [1, {_MAX_HEAD_SIZE}], "
                         f"got {V}")
    _tensor("g", g, _GATE_STATE_DTYPES, (4,))
    _shape("g", g, (B, T, HV, K), "[B, T, HV, K]")
    _tensor("beta", beta, _GATE_STATE_DTYPES, (3,))
    _shape("beta", beta, (B, T, HV), "[B, T, HV]")

    # --- gate and beta modes ------------------------------------------------
    gate = _gate_mode(use_gate_in_kernel, lower_bound)
    if use_gate_in_kernel:
        if lower_bound is None:
            if A_log is None:
                raise ValueError("A_log is required by the softplus gate "
                                 "(use_gate_in_kernel=True, lower_bound=None)")
            if safe_gate:
                raise ValueError("safe_gate=True with use_gate_in_kernel=True "
                                 "requires lower_bound in [-5, 0)")
    else:
        if A_log is not None:
            raise ValueError("A_log is only used with use_gate_in_kernel=True")
        if dt_bias is not None:
            raise ValueError("dt_bias is only used with use_gate_in_kernel=True")
        if lower_bound is not None and not safe_gate:
            raise ValueError("lower_bound with a precomputed gate only states "
                             "the range promised by safe_gate=True; pass "
                             "safe_gate=True or use_gate_in_kernel=True")
    if lower_bound is not None:
        if isinstance(lower_bound, bool) or not isinstance(lower_bound, (int, float)):
            raise TypeError(f"lower_bound must be a float, got "
                            f"{type(lower_bound).__name__}")
        if not _MIN_LOWER_BOUND <= lower_bound < 0:
            raise ValueError(f"lower_bound must be in [{_MIN_LOWER_BOUND}, 0), "
                             f"got {lower_bound}")
    if A_log is not None:
        _tensor("A_log", A_log, {torch.float32: 0}, (1,))
        _shape("A_log", A_log, (HV,), "[HV]")
    if dt_bias is not None:
        _tensor("dt_bias", dt_bias, {torch.float32: 0}, (1, 2))
        if tuple(dt_bias.shape) not in ((HV * K,), (HV, K)):
            raise ValueError(f"dt_bias must have shape [HV * K] = ({HV * K},) "
                             f"or [HV, K] = ({HV}, {K}), got "
                             f"{tuple(dt_bias.shape)}")
    beta_mode = _beta_mode(use_beta_sigmoid_in_kernel, allow_neg_eigval)

    if scale is None:
        scale = K ** -0.5
    if isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise TypeError(f"scale must be a float, got {type(scale).__name__}")
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be positive and finite, got {scale}")

    # --- sequences and states -----------------------------------------------
    if cu_seqlens is not None:
        _tensor("cu_seqlens", cu_seqlens, _INDEX_DTYPES, (1,))
        if B != 1:
            raise ValueError(f"cu_seqlens requires B == 1 (packed sequences), "
                             f"got q of shape {tuple(q.shape)}")
        if cu_seqlens.numel() < 2:
            raise ValueError("cu_seqlens must have N + 1 >= 2 entries, got "
                             f"{cu_seqlens.numel()}")
        N = cu_seqlens.numel() - 1
        if cu_seqlens_cpu is not None:
            _tensor("cu_seqlens_cpu", cu_seqlens_cpu, _INDEX_DTYPES, (1,))
            if cu_seqlens_cpu.numel() != cu_seqlens.numel():
                raise ValueError(f"cu_seqlens_cpu must have cu_seqlens' {cu_seqlens.numel()} "
                                 f"entries, got {cu_seqlens_cpu.numel()}")
            # With cu_seqlens on the GPU it stands in for cu_seqlens' values:
            # comparing them would cost the device sync it is there to save.
            if (cu_seqlens.device.type == "cpu" and
                    not torch.equal(cu_seqlens_cpu.cpu().long(), cu_seqlens.long())):
                raise ValueError("cu_seqlens_cpu must equal cu_seqlens")
    else:
        if cu_seqlens_cpu is not None:
            raise ValueError("cu_seqlens_cpu is given without cu_seqlens")
        N = B
    state_shape = (N, HV, V, K) if state_v_first else (N, HV, K, V)
    state_symbols = "[N, HV, V, K]" if state_v_first else "[N, HV, K, V]"
    if initial_state is not None:
        _tensor("initial_state", initial_state, _GATE_STATE_DTYPES, (4,))
        _shape("initial_state", initial_state, state_shape, state_symbols)

    # --- devices and autograd -----------------------------------------------
    given = {"q": q, "k": k, "v": v, "g": g, "beta": beta, "A_log": A_log,
             "dt_bias": dt_bias, "initial_state": initial_state,
             "cu_seqlens": cu_seqlens}
    for name, x in given.items():
        if x is not None and x.device != q.device:
            raise ValueError(f"{name} is on {x.device}, but q is on {q.device}")
    if q.device.type not in ("cpu", "cuda"):
        raise NotImplementedError(
            f"kda.chunk_kda: tensors on {q.device}: kda runs on CPU (the "
            "reference) and CUDA (the compiled kernels)")
    if torch.is_grad_enabled() and any(
            x is not None and x.requires_grad for x in given.values()):
        raise NotImplementedError("kda.chunk_kda is forward-only: inputs "
                                  "require grad (call it under torch.no_grad())")
    if q.device.type == "cuda":
        return _cuda_forward(q, k, v, g, beta, scale, initial_state,
                             output_final_state, use_qk_l2norm_in_kernel, gate,
                             lower_bound, beta_mode, state_v_first, cu_seqlens,
                             cu_seqlens_cpu, A_log, dt_bias,
                             return_intermediate_states, chunk_size)

    # --- run ----------------------------------------------------------------
    contiguous = {name: (x.contiguous() if x is not None else None)
                  for name, x in given.items()}
    o = torch.empty((B, T, HV, V), dtype=q.dtype)
    # The final state takes the initial state's dtype, as on CUDA; fp32
    # without one (fp64 for fp64 inputs).
    state_dtype = (initial_state.dtype if initial_state is not None else
                   torch.float64 if q.dtype == torch.float64 else torch.float32)
    final_state = (torch.empty(state_shape, dtype=state_dtype)
                   if output_final_state else None)
    h = None
    if return_intermediate_states:
        h = torch.empty(_intermediate_shape(q, v, cu_seqlens, chunk_size, state_v_first),
                        dtype=_intermediate_dtype(q))

    args = _lib.forward_args()
    args.batch, args.seq_len, args.num_heads = B, T, H
    args.num_value_heads, args.head_dim_k, args.head_dim_v = HV, K, V
    args.num_seqs = N
    c = contiguous
    _set_inputs(args, c)
    if initial_state is not None:
        args.initial_state = _lib.tensor(c["initial_state"],
                                       _GATE_STATE_DTYPES[initial_state.dtype])
    if cu_seqlens is not None:
        args.cu_seqlens = _lib.tensor(c["cu_seqlens"], _INDEX_DTYPES[cu_seqlens.dtype])
    args.o = _lib.tensor(o, _ACTIVATION_DTYPES[q.dtype])
    if final_state is not None:
        args.final_state = _lib.tensor(final_state, _GATE_STATE_DTYPES[state_dtype])
    args.scale = float(scale)
    args.gate = gate
    args.lower_bound = float(lower_bound) if gate == _lib.GATE_LOWER_BOUND else 0.0
    args.qk_l2norm = int(use_qk_l2norm_in_kernel)
    args.beta_mode = beta_mode
    args.state_layout = _lib.STATE_VK if state_v_first else _lib.STATE_KV
    if h is not None:
        args.intermediate_states = _lib.tensor(h, _GATE_STATE_DTYPES[h.dtype])
        args.intermediate_interval = chunk_size
    try:
        _lib.reference_forward(args)
    except _lib.KDAError as error:
        # The C library validates cu_seqlens' values, which only it reads.
        raise ValueError(str(error)) from None
    return (o, final_state, h) if return_intermediate_states else (o, final_state)


def _intermediate_dtype(q):
    return q.dtype if q.dtype in _GATE_STATE_DTYPES else torch.float32


def _intermediate_shape(q, v, cu_seqlens, interval, state_v_first, cu_host=None):
    """[B, NT, HV, K, V] (or V, K): the states entering every chunk."""
    B, T, _, K = q.shape
    HV, V = v.shape[2], v.shape[3]
    tail = (HV, V, K) if state_v_first else (HV, K, V)
    if cu_seqlens is None:
        return (B, -(-T // interval)) + tail
    cu = (cu_host if cu_host is not None else cu_seqlens.cpu()).tolist()
    entries = sum(-(-(cu[n + 1] - cu[n]) // interval) for n in range(len(cu) - 1))
    return (1, entries) + tail


def _check_cu_seqlens_values(cu, T):
    """cu_seqlens must start at 0, never decrease and end at T (the kernel
    trusts it; the check reads a host copy)."""
    cu = [int(x) for x in cu.tolist()]
    if cu[0] != 0:
        raise ValueError(f"cu_seqlens must start at 0, got cu_seqlens[0] = {cu[0]}")
    for n in range(1, len(cu)):
        if cu[n] < cu[n - 1]:
            raise ValueError(f"cu_seqlens must be non-decreasing, got cu_seqlens[{n}]"
                             f" = {cu[n]} < cu_seqlens[{n - 1}] = {cu[n - 1]}")
    if cu[-1] != T:
        raise ValueError(f"cu_seqlens must end at seq_len (T = {T}), got "
                         f"cu_seqlens[{len(cu) - 1}] = {cu[-1]}")


def _gpu_launcher():
    """The custom op `kda::forward` while torch.compile traces, else the same
    function called directly (_gpu.forward_eager says why)."""
    return _gpu.forward if torch.compiler.is_compiling() else _gpu.forward_eager


def _cuda_forward(q, k, v, g, beta, scale, initial_state, output_final_state,
                  l2norm, gate, lower_bound, beta_mode, state_v_first,
                  cu_seqlens, cu_seqlens_cpu, A_log, dt_bias,
                  return_intermediate_states, chunk_size):
    if q.dtype != torch.bfloat16:
        raise NotImplementedError(f"kda's GPU kernels take bfloat16 q, k, v so "
                                  f"far; got {str(q.dtype).replace('torch.', '')}")
    for name, x in (("g", g), ("beta", beta), ("initial_state", initial_state)):
        if x is not None and x.dtype == torch.float64:
            raise TypeError(f"{name} must be float32 or bfloat16 on CUDA, got float64")
    cu_host = None
    if cu_seqlens is not None:
        cu_host = cu_seqlens_cpu if cu_seqlens_cpu is not None else cu_seqlens.cpu()
        _check_cu_seqlens_values(cu_host, q.shape[1])
    h_shape = (_intermediate_shape(q, v, cu_seqlens, chunk_size, state_v_first, cu_host)
               if return_intermediate_states else (0, 0))
    intermediate = h_shape[0] * h_shape[1]  # the kernel's flat [B * NT] entries
    T, batched = q.shape[1], False
    if cu_host is not None:
        q, k, v, g, beta, cu_seqlens = _equal_lengths_as_batch(q, k, v, g, beta, cu_seqlens,
                                                               cu_host)
        batched = cu_seqlens is None
    contiguous = lambda x: x.contiguous() if x is not None else None  # noqa: E731
    o, final_state, h = _gpu_launcher()(
        contiguous(q), contiguous(k), contiguous(v),
        g.contiguous(), beta.contiguous(),
        contiguous(initial_state), contiguous(cu_seqlens), contiguous(A_log),
        contiguous(dt_bias), float(scale), gate,
        float(lower_bound) if gate == _lib.GATE_LOWER_BOUND else 0.0,
        bool(l2norm), beta_mode, bool(state_v_first), bool(output_final_state),
        torch.float32, intermediate, chunk_size if return_intermediate_states else 0)
    final_state = final_state if output_final_state else None
    if batched:
        o = o.view(1, T, *o.shape[2:])
    if return_intermediate_states:
        return o, final_state, h.view(h_shape)
    return o, final_state


def _equal_lengths_as_batch(q, k, v, g, beta, cu_seqlens, cu_host):
    """A varlen batch of N > 1 sequences of one length L > 0 is a fixed
    batch [N, L]: the same tokens in the same memory, and the kernel's
    outputs in the same places (the states per sequence, the intermediate
    states sequence after sequence), but no cu_seqlens to read and no
    sequences to rank (2 % faster at 8 x 1024 tokens and 96 heads on an
    H100: docs/design/forward-kernel.md, step 10). Returns the inputs,
    viewed [N, L, ...] with cu_seqlens None when that holds."""
    lengths = cu_host[1:] - cu_host[:-1]
    N = lengths.numel()
    if N < 2 or int(lengths[0]) == 0 or not bool((lengths == lengths[0]).all()):
        return q, k, v, g, beta, cu_seqlens
    L = int(lengths[0])
    batch = lambda x: x.reshape((N, L) + tuple(x.shape[2:]))  # noqa: E731
    return batch(q), batch(k), batch(v), batch(g), batch(beta), None
