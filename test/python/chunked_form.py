"""An independent float64 implementation of the chunked form of spec §4,
written from the spec alone (numpy, no kda code): the algebra that fast
kernels compute, used to check the token-by-token reference against it.

For chunk size C and entering state S, per chunk:
    G    = cumsum(g)                        (chunk-local, per channel)
    M_ij = beta_i sum_d k_id k_jd exp(G_id - G_jd),   j < i
    Tinv = (I + M)^-1
    W    = Tinv Diag(beta) (K * exp(G));  U = Tinv Diag(beta) V
    Aqk_ij = sum_d (scale q_id) k_jd exp(G_id - G_jd), j <= i
    V'   = U - W S
    O    = ((scale Q) * exp(G)) S + Aqk V'
    S   <- Diag(exp(G_C)) S + (K * exp(G_C - G))^T V'
"""

import numpy as np


def softplus(x):
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def log_decay(g, gate, A_log=None, dt_bias=None, lower_bound=None):
    """g: [..., HV, K] as given -> the per-step log decay (spec §3)."""
    if gate == "precomputed":
        return g
    x = g + (dt_bias if dt_bias is not None else 0.0)
    if gate == "softplus":
        return -np.exp(A_log)[:, None] * softplus(x)
    if A_log is not None:
        x = np.exp(A_log)[:, None] * x
    return lower_bound * sigmoid(x)


def l2norm(x):
    return x / np.sqrt((x * x).sum(-1, keepdims=True) + 1e-6)


def chunk_one_head(q, k, v, g, beta, scale, state, C):
    """One (sequence, value head): q, k, g [L, K]; v [L, V]; beta [L];
    state [K, V]. Returns (o [L, V], final state [K, V])."""
    L = q.shape[0]
    o = np.empty((L, v.shape[1]))
    S = state.copy()
    for start in range(0, L, C):
        end = min(start + C, L)
        n = end - start
        Q, Kc, Vc, b = q[start:end], k[start:end], v[start:end], beta[start:end]
        G = np.cumsum(g[start:end], axis=0)
        lower = np.tril(np.ones((n, n), dtype=bool))       # j <= i
        strict = np.tril(np.ones((n, n), dtype=bool), -1)  # j < i
        # exp(G_id - G_jd) only where j <= i, where it is <= 1.
        D = np.where(lower[:, :, None], G[:, None, :] - G[None, :, :], 0.0)
        E = np.exp(D)
        M = np.where(strict, b[:, None] * np.einsum("id,jd,ijd->ij", Kc, Kc, E), 0.0)
        I_plus_M = np.eye(n) + M
        W = np.linalg.solve(I_plus_M, b[:, None] * (Kc * np.exp(G)))
        U = np.linalg.solve(I_plus_M, b[:, None] * Vc)
        Aqk = np.where(lower, np.einsum("id,jd,ijd->ij", scale * Q, Kc, E), 0.0)
        V_new = U - W @ S
        o[start:end] = ((scale * Q) * np.exp(G)) @ S + Aqk @ V_new
        S = np.exp(G[-1])[:, None] * S + (Kc * np.exp(G[-1][None, :] - G)).T @ V_new
    return o, S


def chunked_forward(q, k, v, g, beta, *, chunk_size, scale=None,
                    initial_state=None, cu_seqlens=None, gate="precomputed",
                    A_log=None, dt_bias=None, lower_bound=None,
                    qk_l2norm=False, beta_mode="plain", state_v_first=False):
    """numpy float64 arrays in fla's layout -> (o, final_state)."""
    B, T, H, K = q.shape
    HV, V = v.shape[2], v.shape[3]
    scale = K ** -0.5 if scale is None else scale
    if qk_l2norm:
        q, k = l2norm(q), l2norm(k)
    if dt_bias is not None:
        dt_bias = dt_bias.reshape(HV, K)
    g = log_decay(g, gate, A_log, dt_bias, lower_bound)
    beta = {"plain": beta, "sigmoid": sigmoid(beta),
            "sigmoid_neg_eigval": 2 * sigmoid(beta)}[beta_mode]
    if cu_seqlens is None:
        bounds = [(b, 0, T) for b in range(B)]
    else:
        bounds = [(0, cu_seqlens[n], cu_seqlens[n + 1])
                  for n in range(len(cu_seqlens) - 1)]
    N = len(bounds)
    state = np.zeros((N, HV, K, V)) if initial_state is None else initial_state
    if initial_state is not None and state_v_first:
        state = state.swapaxes(-1, -2)
    o = np.full((B, T, HV, V), np.nan)
    final = np.empty((N, HV, K, V))
    for n, (b, t0, t1) in enumerate(bounds):
        for hv in range(HV):
            h = hv // (HV // H)
            o[b, t0:t1, hv], final[n, hv] = chunk_one_head(
                q[b, t0:t1, h], k[b, t0:t1, h], v[b, t0:t1, hv],
                g[b, t0:t1, hv], beta[b, t0:t1, hv], scale, state[n, hv],
                chunk_size)
    if state_v_first:
        final = final.swapaxes(-1, -2)
    return o, final
