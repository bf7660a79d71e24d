"""kda as a backend of flash-linear-attention's `chunk_kda`.

fla picks a backend for each `chunk_kda` call through its registry
(`fla.backends`): the first enabled backend whose verifier accepts the call
runs it, else fla's own Triton path does. `register()` adds kda to that
registry; `import kda` calls it when fla is installed. Opt out with
FLA_KDA=0.

kda accepts a call when it can compute it: no gradient (kda is
forward-only), no context parallelism, no CUDA-graph
capture, and on CUDA a compiled bundle for the call's configuration; CPU
tensors run kda's exact reference. FlashKDA, when installed, keeps its
priority over kda.
"""

import torch

from . import _gpu, ops

# fla's backend priorities: lower runs first (FlashKDA is 3).
PRIORITY = 4
ENV_VAR = "FLA_KDA"

# fla's chunk_kda arguments that kda.chunk_kda takes as they are.
_PASSED = ("scale", "initial_state", "output_final_state", "use_qk_l2norm_in_kernel",
           "use_gate_in_kernel", "use_beta_sigmoid_in_kernel", "allow_neg_eigval",
           "safe_gate", "lower_bound", "disable_recompute", "state_v_first",
           "cu_seqlens", "cu_seqlens_cpu", "A_log", "dt_bias", "chunk_size",
           "transpose_state_layout")


def _refusal(q, k, v, g, beta, return_intermediate_states=False, cp_context=None,
             use_graph=False, max_num_seqs=None, **kwargs):
    """Why kda cannot run this call, or None when it can."""
    if torch.is_grad_enabled() and any(
            isinstance(x, torch.Tensor) and x.requires_grad
            for x in (q, k, v, g, beta, kwargs.get("initial_state"))):
        return "kda is forward-only (inputs require grad)"
    if cp_context is not None:
        return "kda does not support context parallelism"
    if use_graph:
        return "kda checks cu_seqlens on the host, which CUDA-graph capture forbids"
    unknown = set(kwargs) - set(_PASSED)
    if unknown:
        return f"kda does not take {sorted(unknown)}"
    if q.device.type == "cuda":
        if q.dtype != torch.bfloat16:
            return f"kda's GPU kernels take bfloat16 q, k, v, got {q.dtype}"
        initial = kwargs.get("initial_state")
        v_first = kwargs.get("state_v_first") or bool(kwargs.get("transpose_state_layout"))
        gate = ops._gate_mode(kwargs.get("use_gate_in_kernel"), kwargs.get("lower_bound"))
        beta_mode = ops._beta_mode(kwargs.get("use_beta_sigmoid_in_kernel"),
                                   kwargs.get("allow_neg_eigval"))
        wanted = _gpu.wanted_manifest(
            q, v, torch.float32, torch.float32, gate, beta_mode,
            bool(kwargs.get("use_qk_l2norm_in_kernel")), v_first,
            initial.dtype if initial is not None else torch.float32)
        if _gpu.match_bundle(wanted) is None:
            return "no kda kernel bundle for " + ", ".join(f"{k}={v}" for k, v in wanted.items())
    elif q.device.type != "cpu":
        return f"kda runs on CPU and CUDA, not {q.device.type}"
    return None


def register():
    """Adds kda to fla's chunk_kda backends (idempotent). Returns False when
    fla is not importable."""
    try:
        from fla.backends import BaseBackend
        from fla.backends import register as fla_register
        from fla.ops.kda.chunk import chunk_kda as fla_chunk_kda
    except ImportError:
        return False

    @fla_register(fla_chunk_kda)
    class KDABackend(BaseBackend):
        """kda: chunk_kda compiled through MLIR (this package)."""

        backend_type = "kda"
        package_name = "kda"
        env_var = ENV_VAR
        default_enable = True
        priority = PRIORITY

        def chunk_kda_verifier(self, q, k, v, g, beta, *args, **kwargs):
            if args:
                return False, "kda takes fla's optional arguments by keyword"
            reason = _refusal(q, k, v, g, beta, **kwargs)
            return reason is None, reason

        def chunk_kda(self, q, k, v, g, beta, return_intermediate_states=False,
                      cp_context=None, use_graph=False, max_num_seqs=None, **kwargs):
            return ops.chunk_kda(q, k, v, g, beta,
                                 return_intermediate_states=return_intermediate_states,
                                 **kwargs)

    return True
