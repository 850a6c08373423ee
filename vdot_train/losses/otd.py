"""Optimal Transport Distillation (OTD), the VDOT paper's loss (method.md, "OTD").

Points a_i (fake-score x0 prediction) and b_j (real-score x0 prediction, CFG'd) at the same x_t; W_ε is OT-1 of
`sinkhorn.py`. By the envelope theorem, with T* the converged plan (OTD-1):
    ∂W_ε/∂a_i = Σ_j T*_ij · 2(a_i − b_j) = 2(a_i·(T*1)_i − (T* b)_i)
so the gradient needs only T*, not the Sinkhorn iterations: memory stays flat in the iteration count.
The gradient on pooled points is mapped back to the latent grid exactly as autograd through the 2×2 average pool
would (OTD-2: each pooled gradient spread as 1/pool² over its window; uncovered border rows/cols get 0), then
L2-normalised per frame (OTD-3: ∇ ← ∇/‖∇‖ over C×H×W of each (b, t)), and the loss is (OTD-4)
    L_OTD = ½·Σ‖x̂0 − sg(x̂0 − α·∇_OT)‖²,   whose gradient w.r.t. x̂0 is α·∇_OT.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from uvc_data.errors import ConfigError
from vdot_train.losses.sinkhorn import (
    compute_dtype,
    log_marginal,
    log_plan,
    sinkhorn_log,
    sinkhorn_potentials,
    squared_cost,
)


GRADIENTS = ("envelope", "unrolled_entropic", "unrolled_cost")


@dataclass
class OTDConfig:
    """OTD settings; defaults are the official VDOT ones (ε 0.1, 60 iterations, 2×2 pool, α 0.1, per-frame L2)."""

    eps: float = 0.1  # entropic regulariser ε of OT-1
    iters: int = 60  # Sinkhorn iterations (fixed count, as official)
    pool: int = 2  # average-pool window on each latent frame before taking tokens as points
    points: Literal["frame", "batch"] = "frame"  # frame: tokens of each latent frame; batch: one point per sample
    # what the OT gradient differentiates (see `otd_gradient`):
    #   envelope          ∂W_ε/∂a from the converged plan (OTD-1), the paper's gradient; no graph, memory flat
    #   unrolled_entropic autograd of W_ε = ⟨D, T⟩ + ε⟨T, log T⟩ through the unrolled iterations
    #   unrolled_cost     autograd of the transport cost ⟨D, T⟩ alone through the unrolled iterations — what the
    #                     official code does (`ot_grad_against_fake`: sum(P·C) over 60 iterations, no debiasing)
    gradient: Literal["envelope", "unrolled_entropic", "unrolled_cost"] = "envelope"
    alpha: float = 0.1  # step α in OTD-4
    frame_l2_normalise: bool = True  # OTD-3 (batch mode: one norm over the whole batch)
    tol: float | None = None  # stop Sinkhorn early once the marginal error is below this (None: run `iters`)
    chunk: int | None = None  # envelope: point clouds (frames) per Sinkhorn call, caps memory; None = all at once

    def validate(self) -> None:
        if not self.eps > 0:
            raise ConfigError("eps", f"must be > 0 (official 0.1), got {self.eps}")
        if self.iters < 1:
            raise ConfigError("iters", f"must be >= 1 (official 60), got {self.iters}")
        if self.pool < 1:
            raise ConfigError("pool", f"must be >= 1 (1 = no pooling, official 2), got {self.pool}")
        if self.points not in ("frame", "batch"):
            raise ConfigError("points", f"must be 'frame' or 'batch', got {self.points!r}")
        if self.gradient not in GRADIENTS:
            hint = " ('unrolled' is now 'unrolled_entropic'; the official code's is 'unrolled_cost')" \
                if self.gradient == "unrolled" else ""
            raise ConfigError("gradient", f"must be one of {list(GRADIENTS)}, got {self.gradient!r}{hint}")
        if self.chunk is not None and self.chunk < 1:
            raise ConfigError("chunk", f"must be >= 1 or unset, got {self.chunk}")


def frame_points(latent_BCTHW: Tensor, pool: int = 2) -> Tensor:
    """Tokens of each latent frame after pool×pool average pooling: [B, C, T, H, W] → [B·T, (H//p)·(W//p), C]."""
    if latent_BCTHW.ndim != 5:
        raise ValueError(f"frame points need a latent [B, C, T, H, W], got shape {tuple(latent_BCTHW.shape)}")
    B, C, T, H, W = latent_BCTHW.shape
    if H < pool or W < pool:
        raise ValueError(f"latent frame {H}×{W} is smaller than the pool window {pool}; lower `pool`")
    frames = latent_BCTHW.permute(0, 2, 1, 3, 4).reshape(B * T, C, H, W)
    if pool > 1:
        frames = F.avg_pool2d(frames, pool)  # [B·T, C, H//p, W//p]
    return frames.flatten(2).transpose(1, 2)  # [B·T, N, C]


def unpool_gradient(grad_points: Tensor, shape_BCTHW: tuple[int, ...], pool: int = 2) -> Tensor:
    """OTD-2: map a gradient on `frame_points` [B·T, N, C] back to the latent grid [B, C, T, H, W], as autograd would."""
    B, C, T, H, W = shape_BCTHW
    Hp, Wp = H // pool, W // pool
    g = grad_points.transpose(1, 2).reshape(B * T, C, Hp, Wp)
    if pool > 1:
        g = g.repeat_interleave(pool, dim=-2).repeat_interleave(pool, dim=-1) / pool**2  # [B·T, C, Hp·p, Wp·p]
        g = F.pad(g, (0, W - Wp * pool, 0, H - Hp * pool))  # avg_pool2d drops the remainder: zero gradient there
    return g.reshape(B, T, C, H, W).permute(0, 2, 1, 3, 4)


def envelope_gradient(
    x: Tensor, y: Tensor, eps: float = 0.1, iters: int = 60, tol: float | None = None
) -> tuple[Tensor, dict[str, float]]:
    """OTD-1 for uniform marginals: ∂W_ε/∂x_i = 2(x_i·(T*1)_i − (T* y)_i) for x [..., N, D], y [..., M, D].

    No autograd graph is built; memory ≈ 3 cost-sized [..., N, M] tensors whatever `iters` is.
    Returns (gradient [..., N, D] in the compute dtype, stats {W: mean W_ε per cloud, err, iters}).
    """
    with torch.no_grad():
        dtype = compute_dtype(x, y)
        x, y = x.to(dtype), y.to(dtype)
        C = squared_cost(x, y)  # [..., N, M]
        log_a = log_marginal(None, x.shape[-2], C)
        log_b = log_marginal(None, y.shape[-2], C)
        f, g, n_iter, err = sinkhorn_potentials(C, log_a, log_b, eps, iters, tol)
        plan = log_plan(C, f, g, log_a, log_b, eps).exp_()  # T* [..., N, M]
        del C
        row, col = plan.sum(-1), plan.sum(-2)  # [..., N], [..., M]
        grad = 2 * (x * row.unsqueeze(-1) - plan @ y)  # [..., N, D]
        # W_ε = Σ T_ij (D_ij + ε log T_ij) = Σ_i r_i (f_i + ε log α_i) + Σ_j c_j (g_j + ε log β_j)   (from OT-2)
        value = (row * (f + eps * log_a)).sum(-1) + (col * (g + eps * log_b)).sum(-1)
    return grad, {"W": float(value.mean()), "err": err, "iters": float(n_iter)}


def _as_clouds(x: Tensor, cfg: OTDConfig) -> Tensor:
    if cfg.points == "frame":
        return frame_points(x, cfg.pool)  # [B·T, N, C]
    return x.reshape(1, x.shape[0], -1)  # [1, B, prod(rest)]: the batch is one point cloud


def _to_grid(grad_clouds: Tensor, like: Tensor, cfg: OTDConfig) -> Tensor:
    if cfg.points == "frame":
        return unpool_gradient(grad_clouds, tuple(like.shape), cfg.pool)
    return grad_clouds.reshape(like.shape)


def normalise_per_frame(grad: Tensor, points: str = "frame", tiny: float = 1e-12) -> Tensor:
    """OTD-3: ∇/‖∇‖₂ over C×H×W of every frame (b, t) of a [B, C, T, H, W] gradient; batch mode: over everything."""
    if points == "frame":
        norm = grad.pow(2).sum(dim=(1, 3, 4), keepdim=True).sqrt()  # [B, 1, T, 1, 1]
    else:
        norm = grad.pow(2).sum().sqrt()
    return grad / norm.clamp_min(tiny)


def otd_gradient_and_stats(x0_fake: Tensor, x0_real: Tensor, cfg: OTDConfig) -> tuple[Tensor, dict[str, float]]:
    """∇_OT on the grid of x0_fake (float32/64, same shape) plus Sinkhorn stats; see `otd_gradient`."""
    cfg.validate()
    if x0_fake.shape != x0_real.shape:
        raise ValueError(f"x0_fake {tuple(x0_fake.shape)} and x0_real {tuple(x0_real.shape)} must have one shape")
    dtype = compute_dtype(x0_fake, x0_real)
    fake, real = x0_fake.detach().to(dtype), x0_real.detach().to(dtype)
    if cfg.gradient == "envelope":
        a, b = _as_clouds(fake, cfg), _as_clouds(real, cfg)
        step = cfg.chunk or a.shape[0]
        parts, stats_list = [], []
        for s in range(0, a.shape[0], step):
            g_part, st = envelope_gradient(a[s:s + step], b[s:s + step], cfg.eps, cfg.iters, cfg.tol)
            parts.append(g_part)
            stats_list.append((st, a[s:s + step].shape[0]))
        grad = _to_grid(torch.cat(parts), fake, cfg)
        n_clouds = a.shape[0]
        stats = {
            "W": sum(st["W"] * n for st, n in stats_list) / n_clouds,
            "err": max(st["err"] for st, _ in stats_list),
            "iters": max(st["iters"] for st, _ in stats_list),
        }
    else:
        with torch.enable_grad():
            leaf = fake.clone().requires_grad_(True)
            res = sinkhorn_log(_as_clouds(leaf, cfg), _as_clouds(real, cfg), cfg.eps, cfg.iters, tol=cfg.tol)
            objective = res.value if cfg.gradient == "unrolled_entropic" else res.cost
            (grad,) = torch.autograd.grad(objective.sum(), leaf)
        stats = {"W": float(res.value.detach().mean()), "err": res.err, "iters": float(res.n_iter)}
    if cfg.frame_l2_normalise:
        grad = normalise_per_frame(grad, cfg.points)
    return grad, stats


def otd_gradient(x0_fake: Tensor, x0_real: Tensor, cfg: OTDConfig) -> Tensor:
    """∇_OT (OTD-1…3) on the latent grid, same shape as x0_fake [B, C, T, H, W] (or [B, …] with points="batch").

    envelope: OTD-1 from the converged plan, mapped back by OTD-2 (the paper's gradient of W_ε);
    unrolled_entropic: autograd of W_ε (OT-1, from the unrolled iterations) through the iterations and the pooling;
    unrolled_cost: autograd of ⟨D, T⟩ alone through the same iterations (the official code). As ε → 0 both unrolled
    gradients approach the envelope one; at ε = 0.1 the cost gradient differs slightly (see docs/benchmarks.md).
    Then OTD-3 if `cfg.frame_l2_normalise`. Inputs are detached; the result is float32 (float64 for float64 inputs).
    """
    return otd_gradient_and_stats(x0_fake, x0_real, cfg)[0]


def otd_loss(x0_hat: Tensor, x0_fake: Tensor, x0_real: Tensor, cfg: OTDConfig) -> tuple[Tensor, dict[str, float]]:
    """L_OTD = ½·Σ‖x̂0 − sg(x̂0 − α·∇_OT)‖² (OTD-4, sum reduction); d L/d x̂0 = α·∇_OT.

    Returns (scalar loss, stats {W: mean W_ε per point cloud, err: marginal error, iters: Sinkhorn iterations}).
    """
    if x0_hat.shape != x0_fake.shape:
        raise ValueError(f"x0_hat {tuple(x0_hat.shape)} must have the shape of x0_fake {tuple(x0_fake.shape)}")
    grad, stats = otd_gradient_and_stats(x0_fake, x0_real, cfg)
    x = x0_hat.to(grad.dtype)
    target = (x - cfg.alpha * grad).detach()
    return 0.5 * (x - target).pow(2).sum(), stats
