"""The CUDA path of `chunk_kda`: picks the kernel bundle compiled for the
call's configuration, and launches it through the C runtime on torch's
current stream. Registered as the torch.library custom op `kda::forward`.

Bundles are found at $KDA_BUNDLE_DIR, in `bundles/` next to this package,
or in the source tree's build/bundles.
"""

import os
import pathlib

import torch

from . import _lib

_DTYPE_NAMES = {torch.float32: "f32", torch.bfloat16: "bf16", torch.float16: "f16"}
_CODES = {torch.float32: _lib.DTYPE_FLOAT32, torch.bfloat16: _lib.DTYPE_BFLOAT16}
_GATE_NAMES = {_lib.GATE_PRECOMPUTED: "precomputed", _lib.GATE_SOFTPLUS: "softplus",
               _lib.GATE_LOWER_BOUND: "lower_bound"}
_BETA_NAMES = {_lib.BETA_PLAIN: "plain", _lib.BETA_SIGMOID: "sigmoid",
               _lib.BETA_SIGMOID_NEG_EIGVAL: "sigmoid_neg_eigval"}


def bundle_dirs():
    env = os.environ.get("KDA_BUNDLE_DIR")
    if env:
        return [pathlib.Path(env)]
    here = pathlib.Path(__file__).resolve().parent
    return [here / "bundles", here.parents[2] / "build" / "bundles"]


def _read_manifest(path):
    manifest = {}
    with open(path, "rb") as f:
        if f.readline() != b"kda-bundle 1\n":
            return None
        for line in f:
            key, _, value = line.decode().rstrip("\n").partition(" ")
            if key == "ptx":
                return manifest
            manifest[key] = value
    return None


_manifests = None


def manifests():
    """{path: manifest} of every bundle found (read once)."""
    global _manifests
    if _manifests is None:
        _manifests = {}
        for directory in bundle_dirs():
            for path in sorted(directory.glob("*.kdab")) if directory.is_dir() else []:
                manifest = _read_manifest(path)
                if manifest is not None:
                    _manifests[path] = manifest
    return _manifests


_matches = {}


def rescan_bundles():
    """Forget the bundles found so far, so that the next call looks in
    bundle_dirs() again (e.g. after $KDA_BUNDLE_DIR changed); modules
    already loaded stay cached per bundle path."""
    global _manifests
    _manifests = None
    _matches.clear()


def match_bundle(wanted):
    """The bundle whose manifest has every (key, value) of `wanted`, or None
    (looked up once per configuration: this runs on every call)."""
    key = tuple(sorted(wanted.items()))
    if key not in _matches:
        _matches[key] = next((path for path, manifest in manifests().items()
                              if all(manifest.get(k) == v for k, v in wanted.items())), None)
    return _matches[key]


def find_bundle(wanted):
    """match_bundle, or NotImplementedError naming what is missing."""
    path = match_bundle(wanted)
    if path is not None:
        return path
    if not manifests():
        raise NotImplementedError(
            "kda: no kernel bundle found (looked in " +
            ", ".join(str(d) for d in bundle_dirs()) + "); build them with "
            "`ninja -C build kda-bundles` or set KDA_BUNDLE_DIR")
    described = ", ".join(f"{k}={v}" for k, v in wanted.items())
    raise NotImplementedError(f"kda: no kernel bundle compiled for {described}")


def choice_entries(K, V, g_dtype, beta_dtype, gate, beta_mode, qk_l2norm, state_v_first):
    """The manifest entries of the choices the forward and decode kernels
    share (kda_bundle_choices in C)."""
    return {
        "head_dim_k": str(K), "head_dim_v": str(V),
        "gate": _GATE_NAMES[gate], "beta_mode": _BETA_NAMES[beta_mode],
        "qk_l2norm": str(int(qk_l2norm)),
        "state_layout": "vk" if state_v_first else "kv", "qkv_dtype": "bf16",
        "g_dtype": _DTYPE_NAMES[g_dtype], "beta_dtype": _DTYPE_NAMES[beta_dtype],
    }


def wanted_manifest(q, v, g_dtype, beta_dtype, gate, beta_mode, qk_l2norm,
                    state_v_first, state_dtype, split=(1, 0), segment_scan=False,
                    chunk_size=16):
    """The manifest entries a forward bundle must have to run this
    configuration; `split` is (value_blocks, cluster_ctas) (head_split),
    `segment_scan` whether it is the segment scan (use_segment_scan),
    `chunk_size` the kernel's tokens per chunk (kernel_chunk_size)."""
    return {
        "segment_scan": str(int(segment_scan)),
        "chunk_size": str(chunk_size),
        **choice_entries(q.shape[3], v.shape[3], g_dtype, beta_dtype, gate, beta_mode,
                         qk_l2norm, state_v_first),
        "initial_state_dtype": _DTYPE_NAMES[state_dtype],
        "final_state_dtype": _DTYPE_NAMES[state_dtype],
        "value_blocks": str(split[0]),
        "cluster_ctas": str(split[1]),
    }


_sm_counts = {}

# The kernels' tokens per chunk: 16 (every bundle), or 32 (the _chunk32
# bundles, without clusters or the segment scan), chosen by
# $KDA_CHUNK_SIZE for measurements.
KERNEL_CHUNK_SIZES = (16, 32)


def kernel_chunk_size(intermediate_interval):
    """The forward kernel's chunk size: $KDA_CHUNK_SIZE (16 or 32; 16 when
    unset), except 16 where intermediate states are asked for every
    `intermediate_interval` tokens and that is no multiple of 32."""
    chosen = os.environ.get("KDA_CHUNK_SIZE", "16")
    if chosen not in [str(size) for size in KERNEL_CHUNK_SIZES]:
        raise ValueError(f"kda: $KDA_CHUNK_SIZE must be one of {KERNEL_CHUNK_SIZES}, got "
                         f"{chosen!r}")
    size = int(chosen)
    return 16 if intermediate_interval % size else size

# The shortest sequence, and the fewest segments (one wave of clusters of
# two per segment and value head), the segment scan takes: with two
# segments (T = 16384 and 32768 at H = 32) it ran 13-14 % slower than the
# chain alone, with four 1.29-1.42x faster from T = 8192 at H = 16, with
# eight 2.2-2.5x at H = 8 (H100, docs/design/forward-kernel.md, step 11).
SEGMENT_SCAN_MIN_TOKENS = 8192
SEGMENT_SCAN_MIN_SEGMENTS = 4


def use_segment_scan(N, T, HV, K, V, intermediate, state_v_first, state_dtype, sm_count):
    """Whether a forward runs as a segment scan: one long sequence (N = 1:
    B = 1, or cu_seqlens of one sequence) of at least SEGMENT_SCAN_MIN_TOKENS
    tokens whose heads leave room for SEGMENT_SCAN_MIN_SEGMENTS segments in
    one wave (a cluster of two CTAs per segment and value head), K = V =
    128, f32 states in the vk layout, no intermediate states.
    $KDA_SEGMENT_SCAN = 0 or 1 overrides the length and segment rules (for
    measurements; at least two segments still); the rest is what the
    bundles run."""
    if N != 1 or intermediate or (K, V) != (128, 128):
        return False
    if not state_v_first or state_dtype != torch.float32 or sm_count < 4 * HV:
        return False
    forced = os.environ.get("KDA_SEGMENT_SCAN")
    if forced in ("0", "1"):
        return forced == "1"
    segments = sm_count // (2 * HV)
    return T >= SEGMENT_SCAN_MIN_TOKENS and segments >= SEGMENT_SCAN_MIN_SEGMENTS


def head_split(ctas, V, sm_count):
    """(value_blocks, cluster_ctas) for a forward of `ctas` = N * HV
    (sequence, head) pairs. At V = 128: the state's rows split over 2 CTAs,
    a cluster that computes each chunk's operands once, while the doubled
    grid still runs in one wave on `sm_count` SMs (more SMs at work, each
    with half the state; a second wave costs more than the split saves);
    with helper CTAs sharing the chunk-local work, a cluster of 3 while the
    grid takes at most a quarter of the SMs and of 6 while it takes at most
    an eighth. The margin leaves room for clusters to be placed whole in
    the GPU's SM groups: 128 CTAs in clusters of 4, or 112 in clusters of
    7, ran as two waves on 132 SMs (docs/design/forward-kernel.md).
    At V = 256 (K = 128) always (2, 2): a CTA holds at most 128 value rows,
    and the cluster computes each chunk once (where it is not shipped, the
    caller falls back to the two CTAs without a cluster). Else (1, 0).
    $KDA_VALUE_BLOCKS = 1 or 2 and $KDA_CLUSTER_CTAS = 2, 3 or 6 override
    the choice at V = 128 (for measurements)."""
    if V == 256:
        return (2, 2)
    if V != 128:
        return (1, 0)
    blocks = os.environ.get("KDA_VALUE_BLOCKS")
    if blocks == "1" or (blocks != "2" and 2 * ctas > sm_count):
        return (1, 0)
    cluster = os.environ.get("KDA_CLUSTER_CTAS")
    if cluster in ("2", "3", "6"):
        return (2, int(cluster))
    if 8 * ctas <= sm_count:
        return (2, 6)
    return (2, 3) if 4 * ctas <= sm_count else (2, 2)


def _sm_count(device):
    if device.index not in _sm_counts:
        _sm_counts[device.index] = torch.cuda.get_device_properties(device).multi_processor_count
    return _sm_counts[device.index]


_contexts, _bundles = {}, {}


def _bundle(device_index, path):
    key = (device_index, path)
    if key not in _bundles:
        if device_index not in _contexts:
            _contexts[device_index] = _lib.Context(device_index)
        _bundles[key] = _lib.Bundle(_contexts[device_index], path)
    return _bundles[key]


def _output_shapes(q, v, cu_seqlens, initial_state, state_v_first, final_state_dtype):
    """(o's shape, the state's shape, the state's dtype) of a call."""
    B, T, H, K = q.shape
    HV, V = v.shape[2], v.shape[3]
    N = cu_seqlens.shape[0] - 1 if cu_seqlens is not None else B
    state_shape = (N, HV, V, K) if state_v_first else (N, HV, K, V)
    state_dtype = initial_state.dtype if initial_state is not None else final_state_dtype
    return (B, T, HV, V), state_shape, state_dtype


def _intermediate(q, v, state_v_first, entries, interval):
    """The intermediate-state output (bf16, q's dtype), or an empty tensor."""
    if not interval:
        return q.new_empty(0)
    K, HV, V = q.shape[3], v.shape[2], v.shape[3]
    tail = (HV, V, K) if state_v_first else (HV, K, V)
    return q.new_empty((entries,) + tail)


def forward_eager(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, g: torch.Tensor,
                  beta: torch.Tensor, initial_state: torch.Tensor | None,
                  cu_seqlens: torch.Tensor | None, A_log: torch.Tensor | None,
                  dt_bias: torch.Tensor | None, scale: float, gate: int,
                  lower_bound: float, qk_l2norm: bool, beta_mode: int,
                  state_v_first: bool, output_final_state: bool,
                  final_state_dtype: torch.dtype, intermediate_entries: int,
                  intermediate_interval: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The forward on CUDA tensors already checked by ops.chunk_kda: q, k, v
    bf16, g and beta bf16 or f32, everything contiguous and on one device.
    Returns (o, final_state, intermediate states); the last two are empty
    unless asked for (intermediate_interval > 0: `intermediate_entries`
    states, one entering every intermediate_interval-token chunk)."""
    B, T, H, K = q.shape
    HV, V = v.shape[2], v.shape[3]
    N = cu_seqlens.shape[0] - 1 if cu_seqlens is not None else B
    o_shape, state_shape, state_dtype = _output_shapes(
        q, v, cu_seqlens, initial_state, state_v_first, final_state_dtype)
    sm_count = _sm_count(q.device)
    split = head_split(N * HV, V, sm_count)
    chunk_size = kernel_chunk_size(intermediate_interval)
    path = None
    # The segment scan and the clusters run 16-token chunks only.
    if chunk_size == 16 and use_segment_scan(N, T, HV, K, V, intermediate_interval,
                                             state_v_first, state_dtype, sm_count):
        # Shipped with bf16 g and beta (FlashKDA's and Kimi-Linear's
        # configurations); otherwise the chain alone.
        path = match_bundle(wanted_manifest(q, v, g.dtype, beta.dtype, gate, beta_mode,
                                            qk_l2norm, state_v_first, state_dtype, (2, 2),
                                            segment_scan=True))
    wanted = wanted_manifest(q, v, g.dtype, beta.dtype, gate, beta_mode, qk_l2norm,
                             state_v_first, state_dtype, split, chunk_size=chunk_size)
    path = path or match_bundle(wanted)
    # The splits are shipped for some configurations only: the clusters
    # with helpers with bf16 g, the split at V = 128, at V = 256 the
    # cluster with bf16 g and the two CTAs without one.
    for fallback in ((2, 2), (2, 0), (1, 0)):
        if path is None and split != fallback and split[0] >= fallback[0]:
            wanted.update(value_blocks=str(fallback[0]), cluster_ctas=str(fallback[1]))
            path = match_bundle(wanted)
    if path is None and (g.dtype, beta.dtype) != (torch.float32, torch.float32):
        # Every configuration has a bundle taking f32 g and beta: widen (exact).
        g, beta = g.float(), beta.float()
        wanted.update(g_dtype="f32", beta_dtype="f32")
    path = path or find_bundle(wanted)
    bundle = _bundle(q.device.index, path)

    o = torch.empty(o_shape, dtype=q.dtype, device=q.device)
    h = _intermediate(q, v, state_v_first, intermediate_entries, intermediate_interval)
    final_state = (torch.empty(state_shape, dtype=state_dtype, device=q.device)
                   if output_final_state else torch.empty(0, device=q.device))
    args = _lib.forward_args()
    args.batch, args.seq_len, args.num_heads = B, T, H
    args.num_value_heads, args.head_dim_k, args.head_dim_v = HV, K, V
    args.num_seqs = N
    args.q = _lib.tensor(q, _lib.DTYPE_BFLOAT16)
    args.k = _lib.tensor(k, _lib.DTYPE_BFLOAT16)
    args.v = _lib.tensor(v, _lib.DTYPE_BFLOAT16)
    args.g = _lib.tensor(g, _CODES[g.dtype])
    args.beta = _lib.tensor(beta, _CODES[beta.dtype])
    state_code = _lib.DTYPE_FLOAT32 if state_dtype == torch.float32 else _lib.DTYPE_BFLOAT16
    if A_log is not None:
        args.A_log = _lib.tensor(A_log, _lib.DTYPE_FLOAT32)
    if dt_bias is not None:
        args.dt_bias = _lib.tensor(dt_bias, _lib.DTYPE_FLOAT32)
    if initial_state is not None:
        args.initial_state = _lib.tensor(initial_state, state_code)
    if cu_seqlens is not None:
        args.cu_seqlens = _lib.tensor(cu_seqlens, _lib.DTYPE_INT64 if cu_seqlens.dtype == torch.int64
                               else _lib.DTYPE_INT32)
    args.o = _lib.tensor(o, _lib.DTYPE_BFLOAT16)
    if output_final_state:
        args.final_state = _lib.tensor(final_state, state_code)
    args.scale = scale
    args.gate = gate
    args.lower_bound = lower_bound
    args.qk_l2norm = int(qk_l2norm)
    args.beta_mode = beta_mode
    args.state_layout = _lib.STATE_VK if state_v_first else _lib.STATE_KV
    if intermediate_interval:
        args.intermediate_states = _lib.tensor(h, _lib.DTYPE_BFLOAT16)
        args.intermediate_interval = intermediate_interval
    # Only the segment scan has a workspace: no C call for the others.
    workspace_bytes = (bundle.workspace_size(args)
                       if manifests()[path].get("segment_scan") == "1" else 0)
    workspace = (torch.empty(workspace_bytes, dtype=torch.uint8, device=q.device)
                 if workspace_bytes else None)
    with torch.cuda.device(q.device):
        stream = torch.cuda.current_stream(q.device).cuda_stream
        bundle.forward(args, stream, workspace.data_ptr() if workspace is not None else None,
                       workspace_bytes)
    return o, final_state, h


# The same function as the torch.library custom op `kda::forward`, which
# torch.compile traces; eager callers take forward_eager directly, since the
# op's dispatch layers add tens of microseconds to every call and do
# nothing for a forward-only op outside a trace.
forward = torch.library.custom_op("kda::forward", mutates_args=())(forward_eager)


@forward.register_fake
def _(q, k, v, g, beta, initial_state, cu_seqlens, A_log, dt_bias, scale, gate,
      lower_bound, qk_l2norm, beta_mode, state_v_first, output_final_state,
      final_state_dtype, intermediate_entries, intermediate_interval):
    o_shape, state_shape, state_dtype = _output_shapes(
        q, v, cu_seqlens, initial_state, state_v_first, final_state_dtype)
    final_state = (q.new_empty(state_shape, dtype=state_dtype) if output_final_state
                   else q.new_empty(0))
    return (q.new_empty(o_shape), final_state,
            _intermediate(q, v, state_v_first, intermediate_entries, intermediate_interval))
