"""Distribution matching distillation (DMD) gradient and loss (method.md, "Losses", DMD).

DMD-1 (reverse-KL gradient at a noised generator sample x_t):   ∇ = x0_fake(x_t) − x0_real(x_t)
DMD-2 (normaliser, a named option because the codebases differ):
    "t_over_1000": ∇ ← ∇ · t/1000                            (official VDOT code)
    "mean_abs":    ∇ ← ∇ / mean|x̂0 − x0_real| per sample      (DMD2 / Self-Forcing)
    "none":        ∇ unchanged
DMD-3:  L_DMD = ½·‖x̂0 − sg(x̂0 − ∇)‖², mean over elements (Self-Forcing's reduction), so dL/dx̂0 = ∇/numel.
"""
from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from vdot_train.flow import sigma_of

Normaliser = Literal["t_over_1000", "mean_abs", "none"]
NORMALISERS = ("t_over_1000", "mean_abs", "none")


def dmd_gradient(
    x0_fake: Tensor, x0_real: Tensor, x0_hat: Tensor, t: Tensor | float, normaliser: Normaliser = "t_over_1000"
) -> Tensor:
    """∇ = x0_fake − x0_real (DMD-1) scaled by the DMD-2 `normaliser`; float32 (float64 kept), NaNs set to 0.

    x0_real is the real score's x0 after CFG on the velocity (flow.cfg then flow.x0_from_velocity).
    """
    if normaliser not in NORMALISERS:
        raise ValueError(f"unknown DMD normaliser {normaliser!r}; use one of {list(NORMALISERS)}")
    if not (x0_fake.shape == x0_real.shape == x0_hat.shape):
        raise ValueError(f"x0_fake {tuple(x0_fake.shape)}, x0_real {tuple(x0_real.shape)} and x0_hat "
                         f"{tuple(x0_hat.shape)} must share one shape")
    with torch.no_grad():
        dtype = torch.float64 if x0_fake.dtype == torch.float64 else torch.float32
        fake, real = x0_fake.to(dtype), x0_real.to(dtype)
        grad = fake - real
        if normaliser == "t_over_1000":
            grad = grad * sigma_of(t, grad)
        elif normaliser == "mean_abs":
            dims = tuple(range(1, grad.ndim))
            grad = grad / (x0_hat.detach().to(dtype) - real).abs().mean(dim=dims, keepdim=True)
        return torch.nan_to_num(grad)


def dmd_loss(x0_hat: Tensor, grad: Tensor, reduction: Literal["mean", "sum"] = "mean") -> Tensor:
    """L_DMD = ½·‖x̂0 − sg(x̂0 − ∇)‖² (DMD-3); `reduction` "mean" (default, Self-Forcing) or "sum" (as OTD-4)."""
    if grad.shape != x0_hat.shape:
        raise ValueError(f"DMD gradient {tuple(grad.shape)} must have the shape of x0_hat {tuple(x0_hat.shape)}")
    x = x0_hat.to(grad.dtype)
    sq = (x - (x - grad).detach()).pow(2)
    if reduction == "mean":
        return 0.5 * sq.mean()
    if reduction == "sum":
        return 0.5 * sq.sum()
    raise ValueError(f"unknown reduction {reduction!r}; use 'mean' or 'sum'")
