"""GAN losses for the generator and the discriminator heads (method.md, "GAN").

GAN-1 relativistic (official):   L_G = softplus(−(D(fake) − D(real))),   L_D = softplus(−(D(real) − D(fake)))
GAN-2 non-saturating:            L_G = softplus(−D(fake)),               L_D = softplus(−D(real)) + softplus(D(fake))
GAN-3 approximate R1/R2:         R(x) = mean‖D(x) − D(x + σ·n)‖²,  n ~ N(0, I)
    (a first-order Taylor expansion gives E_n[R] ≈ σ²·‖∇_x D(x)‖², i.e. σ²·R1 on real x, σ²·R2 on fake x,
    without a double backward; official VDOT: off).
All losses are means over the batch of logits [B]; pairs are matched element-wise (same t for real and fake).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def _pair(a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"relativistic losses pair logits element-wise; got shapes {tuple(a.shape)} and {tuple(b.shape)}")


def relativistic_g(d_fake: Tensor, d_real: Tensor) -> Tensor:
    """GAN-1 generator loss: mean softplus(−(D(fake) − D(real)))."""
    _pair(d_fake, d_real)
    return F.softplus(-(d_fake.float() - d_real.float())).mean()


def relativistic_d(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """GAN-1 discriminator loss: mean softplus(−(D(real) − D(fake)))."""
    _pair(d_real, d_fake)
    return F.softplus(-(d_real.float() - d_fake.float())).mean()


def nonsaturating_g(d_fake: Tensor) -> Tensor:
    """GAN-2 generator loss: mean softplus(−D(fake))."""
    return F.softplus(-d_fake.float()).mean()


def nonsaturating_d(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """GAN-2 discriminator loss: mean softplus(−D(real)) + mean softplus(D(fake))."""
    return F.softplus(-d_real.float()).mean() + F.softplus(d_fake.float()).mean()


def r1_perturbed(x: Tensor, sigma: float, generator: torch.Generator | None = None) -> Tensor:
    """x + σ·n, n ~ N(0, I): the input of GAN-3's second evaluation (x detached)."""
    if not sigma > 0:
        raise ValueError(f"approximate R1 needs a perturbation sigma > 0, got {sigma}")
    x = x.detach()
    return x + sigma * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)


def approx_r1_from_logits(d: Tensor, d_perturbed: Tensor) -> Tensor:
    """GAN-3 from the two evaluations' logits: mean‖D(x) − D(x + σ·n)‖²."""
    return (d.float() - d_perturbed.float()).pow(2).mean()


def approx_r1(
    d_fn: Callable[[Tensor], Tensor], x: Tensor, sigma: float, generator: torch.Generator | None = None
) -> Tensor:
    """GAN-3: mean‖D(x) − D(x + σ·n)‖² — approximate R1 (x real) / R2 (x fake); ≈ σ²‖∇D‖² for small σ.

    Gradients flow into D through both evaluations; x itself is detached. (The trainer evaluates both in the critic's
    one batched forward instead: `r1_perturbed` + `approx_r1_from_logits`.)
    """
    x_perturbed = r1_perturbed(x, sigma, generator)
    return approx_r1_from_logits(d_fn(x.detach()), d_fn(x_perturbed))
