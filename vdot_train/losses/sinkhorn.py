"""Entropic optimal transport by log-domain Sinkhorn, batched over leading dims (method.md, "OTD").

Problem (OT-1):   W_ε(a, b) = min_{T ∈ Π(α, β)} ⟨D, T⟩ + ε·⟨T, log T⟩,   D_ij = ‖x_i − y_j‖²
with marginals α ∈ Δ_N, β ∈ Δ_M (uniform unless given). The optimal plan has the Gibbs form (OT-2)
    T_ij = α_i β_j · exp((f_i + g_j − D_ij)/ε)
and the log-domain Sinkhorn updates (OT-3) are
    f_i ← −ε·logsumexp_j(log β_j + (g_j − D_ij)/ε),    g_j ← −ε·logsumexp_i(log α_i + (f_i − D_ij)/ε).
After a g-update the column marginals are exact; `err` measures the row marginals: Σ_i |Σ_j T_ij − α_i|.

Costs are computed in float32 whatever the input dtype (bf16/fp16 inputs are upcast); float64 inputs stay float64.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class SinkhornResult:
    """Solution of OT-1 for a batch of point-cloud pairs; leading dims `...` as in the inputs."""

    plan: Tensor  # [..., N, M] optimal plan T (OT-2)
    f: Tensor  # [..., N] dual potential of x
    g: Tensor  # [..., M] dual potential of y
    cost: Tensor  # [...] transport cost ⟨D, T⟩ (what POT's `sinkhorn2` returns)
    n_iter: int  # iterations run (each = one f- and one g-update)
    err: float  # max over the batch of the row-marginal violation Σ_i |(T·1)_i − α_i|
    value: Tensor  # [...] entropic objective ⟨D, T⟩ + ε⟨T, log T⟩ (OT-1), the quantity W_ε


def compute_dtype(*tensors: Tensor) -> torch.dtype:
    """float32 for half/bfloat16/float32 inputs, float64 if any input is float64."""
    return torch.float64 if any(t.dtype == torch.float64 for t in tensors) else torch.float32


def squared_cost(x: Tensor, y: Tensor) -> Tensor:
    """D_ij = ‖x_i − y_j‖² for x [..., N, D], y [..., M, D] → [..., N, M] (expanded, clamped at 0)."""
    xx = (x * x).sum(-1, keepdim=True)  # [..., N, 1]
    yy = (y * y).sum(-1).unsqueeze(-2)  # [..., 1, M]
    return (xx + yy - 2 * x @ y.transpose(-1, -2)).clamp_min(0)


def log_marginal(w: Tensor | None, n: int, like: Tensor) -> Tensor:
    """log α: uniform −log n when `w` is None, else log of the given weights [..., n] (must sum to 1 per cloud)."""
    if w is None:
        return torch.full(like.shape[:-2] + (n,), -math.log(n), dtype=like.dtype, device=like.device)
    if w.shape[-1] != n:
        raise ValueError(f"marginal weights have {w.shape[-1]} entries for {n} points; pass one weight per point")
    if bool((w < 0).any()):
        raise ValueError("marginal weights must be non-negative")
    return w.to(like.dtype).log().expand(like.shape[:-2] + (n,))


def _f_update(C: Tensor, g: Tensor, log_b: Tensor, eps: float, buf: Tensor | None = None) -> Tensor:
    """OT-3 f-update; with `buf` (no autograd) the [..., N, M] exponent is written in place to save memory."""
    if buf is None:
        return -eps * torch.logsumexp(log_b.unsqueeze(-2) + (g.unsqueeze(-2) - C) / eps, dim=-1)  # [..., N]
    torch.sub(g.unsqueeze(-2), C, out=buf).div_(eps).add_(log_b.unsqueeze(-2))
    return -eps * torch.logsumexp(buf, dim=-1)


def _g_update(C: Tensor, f: Tensor, log_a: Tensor, eps: float, buf: Tensor | None = None) -> Tensor:
    """OT-3 g-update; `buf` as in `_f_update`."""
    if buf is None:
        return -eps * torch.logsumexp(log_a.unsqueeze(-1) + (f.unsqueeze(-1) - C) / eps, dim=-2)  # [..., M]
    torch.sub(f.unsqueeze(-1), C, out=buf).div_(eps).add_(log_a.unsqueeze(-1))
    return -eps * torch.logsumexp(buf, dim=-2)


def row_marginal_error(
    C: Tensor, f: Tensor, g: Tensor, log_a: Tensor, log_b: Tensor, eps: float, buf: Tensor | None = None
) -> float:
    """max over the batch of Σ_i |(T·1)_i − α_i| for the plan (OT-2) of potentials (f, g)."""
    f_next = _f_update(C, g, log_b, eps, buf)
    # (T·1)_i = α_i·exp((f_i − f_next_i)/ε) because f_next makes the rows exact
    row = (log_a + (f - f_next) / eps).exp()
    return float((row - log_a.exp()).abs().sum(-1).max()) if row.numel() else 0.0


def sinkhorn_potentials(
    C: Tensor,
    log_a: Tensor,
    log_b: Tensor,
    eps: float,
    iters: int,
    tol: float | None = None,
    check_every: int = 10,
) -> tuple[Tensor, Tensor, int, float]:
    """Run OT-3 on a cost [..., N, M] from zero potentials; stop early when tol is set and err < tol.

    Returns (f [..., N], g [..., M], iterations run, err). Differentiable if C is (this is the "unrolled" gradient).
    """
    if not eps > 0:
        raise ValueError(f"entropic regulariser eps must be > 0 (official 0.1), got {eps}")
    if iters < 1:
        raise ValueError(f"Sinkhorn iterations must be >= 1 (official 60), got {iters}")
    f = torch.zeros(C.shape[:-1], dtype=C.dtype, device=C.device)
    g = torch.zeros(C.shape[:-2] + C.shape[-1:], dtype=C.dtype, device=C.device)
    # without autograd one [..., N, M] buffer is reused for every update (peak ≈ 3 cost-sized tensors)
    buf = torch.empty_like(C) if not (torch.is_grad_enabled() and C.requires_grad) else None
    err = float("nan")
    n = 0
    for n in range(1, iters + 1):
        f = _f_update(C, g, log_b, eps, buf)
        g = _g_update(C, f, log_a, eps, buf)
        if tol is not None and n % check_every == 0:
            with torch.no_grad():
                err = row_marginal_error(C.detach(), f.detach(), g.detach(), log_a, log_b, eps, buf)
            if err < tol:
                break
    if tol is None or n % check_every != 0:
        with torch.no_grad():
            err = row_marginal_error(C.detach(), f.detach(), g.detach(), log_a, log_b, eps, buf)
    return f, g, n, err


def log_plan(C: Tensor, f: Tensor, g: Tensor, log_a: Tensor, log_b: Tensor, eps: float) -> Tensor:
    """log T_ij = log α_i + log β_j + (f_i + g_j − D_ij)/ε  (OT-2), [..., N, M]."""
    return log_a.unsqueeze(-1) + log_b.unsqueeze(-2) + (f.unsqueeze(-1) + g.unsqueeze(-2) - C) / eps


def sinkhorn_log(
    x: Tensor,
    y: Tensor,
    eps: float = 0.1,
    iters: int = 60,
    a: Tensor | None = None,
    b: Tensor | None = None,
    tol: float | None = None,
) -> SinkhornResult:
    """Solve OT-1 between x [..., N, D] and y [..., M, D] with squared Euclidean cost by log-domain Sinkhorn (OT-3).

    a [..., N] / b [..., M]: marginal weights (uniform when None). `tol`: stop when the row-marginal L1 error falls
    below it (checked every 10 iterations); None runs exactly `iters` iterations, as the official code does (60).
    Gradients flow to x and y through the iterations if they require grad (memory grows with `iters`); for the
    memory-flat envelope gradient use `vdot_train.losses.otd.envelope_gradient`.
    """
    if x.ndim < 2 or y.ndim < 2 or x.shape[-1] != y.shape[-1] or x.shape[:-2] != y.shape[:-2]:
        raise ValueError(f"x and y must be [..., N, D] and [..., M, D] with the same leading dims and D; "
                         f"got {tuple(x.shape)} and {tuple(y.shape)}")
    dtype = compute_dtype(x, y)
    x, y = x.to(dtype), y.to(dtype)
    C = squared_cost(x, y)  # [..., N, M]
    log_a = log_marginal(a, x.shape[-2], C)
    log_b = log_marginal(b, y.shape[-2], C)
    f, g, n_iter, err = sinkhorn_potentials(C, log_a, log_b, eps, iters, tol)
    logT = log_plan(C, f, g, log_a, log_b, eps)
    plan = logT.exp()
    cost = (C * plan).sum((-1, -2))
    value = cost + eps * (plan * logT).sum((-1, -2))
    return SinkhornResult(plan=plan, f=f, g=g, cost=cost, n_iter=n_iter, err=err, value=value)
