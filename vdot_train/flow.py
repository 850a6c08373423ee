"""Wan flow matching: noising, velocity/x0 conversions, timestep shift and schedules (method.md, "Flow matching facts").

Conventions used everywhere in vdot_train:
    x_t = (1 − σ)·x0 + σ·ε                  (FM-1, forward process)
    v   = ε − x0                            (FM-2, velocity target)
    x0  = x_t − σ·v                         (FM-3, x0 from a velocity prediction)
    t   = 1000·σ                            (FM-4, 1000 train timesteps)
    σ'  = s·σ / (1 + (s − 1)·σ)             (FM-5, timestep shift s)
Timestep tensors `t` are [B] (one per sample) or a scalar; they broadcast over the remaining dims of the data.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

NUM_TRAIN_TIMESTEPS = 1000


def _check_shift(shift: float) -> None:
    if not shift > 0:
        raise ValueError(f"timestep shift must be > 0 (1 = no shift; official: 5 for DMD/OTD, 12 for GAN), got {shift}")


def shift_sigma(sigma: Tensor | float, shift: float) -> Tensor | float:
    """σ' = s·σ / (1 + (s − 1)·σ)  (FM-5). Works on floats and tensors; σ ∈ [0, 1] maps onto [0, 1], s = 1 is identity."""
    _check_shift(shift)
    return shift * sigma / (1 + (shift - 1) * sigma)


def sigma_of(t: Tensor | float, like: Tensor) -> Tensor:
    """σ = t/1000 (FM-4) as a tensor shaped [B, 1, …] (or a scalar) that broadcasts over `like` [B, …]."""
    t = torch.as_tensor(t, device=like.device)
    sigma = (t.to(torch.float64 if like.dtype == torch.float64 else torch.float32) / NUM_TRAIN_TIMESTEPS).to(like.dtype)
    if sigma.ndim == 0:
        return sigma
    if sigma.ndim != 1 or sigma.shape[0] != like.shape[0]:
        raise ValueError(f"timesteps must be a scalar or shaped [B] with B = {like.shape[0]}, got {tuple(sigma.shape)}")
    return sigma.reshape(-1, *([1] * (like.ndim - 1)))


def sample_timesteps(
    batch: int,
    shift: float,
    t_min: float = 20.0,
    t_max: float = 980.0,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """Training timesteps t = clamp(1000·σ'(u), t_min, t_max), u = k/1000, k ~ U{0..999} — FM-5 applied to a uniform draw.

    This is the Self-Forcing/VDOT draw: an integer timestep, shifted (official shift 5 for DMD/OTD, 12 for the GAN
    branch) and clamped to [20, 980] (0.02 and 0.98 of 1000). Returns float32 [batch].
    """
    _check_shift(shift)
    if not 0 <= t_min <= t_max <= NUM_TRAIN_TIMESTEPS:
        raise ValueError(f"need 0 <= t_min <= t_max <= 1000, got t_min={t_min}, t_max={t_max}")
    if device is None and generator is not None:
        device = generator.device
    k = torch.randint(0, NUM_TRAIN_TIMESTEPS, (batch,), generator=generator, device=device)
    sigma = shift_sigma(k.to(torch.float32) / NUM_TRAIN_TIMESTEPS, shift)
    return (sigma * NUM_TRAIN_TIMESTEPS).clamp(t_min, t_max)


def add_noise(x0: Tensor, noise: Tensor, t: Tensor | float) -> Tensor:
    """x_t = (1 − σ)·x0 + σ·ε with σ = t/1000 (FM-1, FM-4)."""
    if noise.shape != x0.shape:
        raise ValueError(f"noise {tuple(noise.shape)} must have the shape of x0 {tuple(x0.shape)}")
    sigma = sigma_of(t, x0)
    return (1 - sigma) * x0 + sigma * noise


def velocity_target(x0: Tensor, noise: Tensor) -> Tensor:
    """v = ε − x0 (FM-2): the flow-matching regression target."""
    return noise - x0


def x0_from_velocity(x_t: Tensor, v: Tensor, t: Tensor | float) -> Tensor:
    """x0 = x_t − σ·v (FM-3)."""
    return x_t - sigma_of(t, x_t) * v


def velocity_from_x0(x_t: Tensor, x0: Tensor, t: Tensor | float) -> Tensor:
    """v = (x_t − x0)/σ, the inverse of FM-3 (σ must be > 0)."""
    return (x_t - x0) / sigma_of(t, x_t)


def _check_steps(steps: Sequence[float]) -> Tensor:
    s = torch.as_tensor(list(steps), dtype=torch.float64)
    if s.ndim != 1 or len(s) == 0:
        raise ValueError(f"student steps must be a non-empty list such as (1000, 750, 500, 250), got {steps!r}")
    if bool(((s <= 0) | (s > NUM_TRAIN_TIMESTEPS)).any()) or bool((s[1:] >= s[:-1]).any()):
        raise ValueError(f"student steps must be strictly decreasing values in (0, 1000], got {list(steps)}")
    return s


def student_timesteps(steps: Sequence[float] = (1000, 750, 500, 250), shift: float = 5.0) -> Tensor:
    """Few-step student schedule: t_k = 1000·σ'(s_k/1000)  (FM-5 on the listed steps; Self-Forcing `warp_denoising_step`).

    Self-Forcing indexes the 1000-step shifted training schedule σ_i = shift(1 − i/1000), i = 0..999 (plus a final 0)
    at i = 1000 − s_k, which is exactly FM-5 applied to s_k/1000. Official: steps (1000, 750, 500, 250), shift 5 →
    [1000, 937.5, 833.3, 625.0]. Returns float32 [K].
    """
    s = _check_steps(steps)
    return (shift_sigma(s / NUM_TRAIN_TIMESTEPS, shift) * NUM_TRAIN_TIMESTEPS).to(torch.float32)


def inference_timesteps(num_steps: int, shift: float) -> Tensor:
    """Wan UniPC inference schedule: σ_k = linspace(σ_max, 0, K+1)[:-1] with σ_max = 1 − 1/1000, then FM-5.

    σ_max = 0.999 is the first sigma of Wan's 1000-step base schedule (1 − linspace(1, 1/1000, 1000) reversed).
    Official VDOT inference, 4 steps, shift 16 → [999.94, 979.51, 941.07, 841.93]; i.e. 0.999·σ of
    `student_timesteps((1000, 750, 500, 250))` before the shift — the same warp as training up to the 0.999 factor.
    """
    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    sigma_max = 1.0 - 1.0 / NUM_TRAIN_TIMESTEPS
    sigmas = torch.linspace(sigma_max, 0.0, num_steps + 1, dtype=torch.float64)[:-1]
    return (shift_sigma(sigmas, shift) * NUM_TRAIN_TIMESTEPS).to(torch.float32)


def renoise(x0_hat: Tensor, t_next: Tensor | float, generator: torch.Generator | None = None) -> Tensor:
    """Self-Forcing rollout step: x_{t_next} = (1 − σ)·x̂0 + σ·ε with fresh ε ~ N(0, I) (FM-1 at the next step's t)."""
    noise = torch.randn(x0_hat.shape, generator=generator, device=x0_hat.device, dtype=x0_hat.dtype)
    return add_noise(x0_hat, noise, t_next)


def cfg(v_uncond: Tensor, v_cond: Tensor, scale: float) -> Tensor:
    """Classifier-free guidance on the velocity: v = v_uncond + s·(v_cond − v_uncond) (official real score: s = 3)."""
    return v_uncond + scale * (v_cond - v_uncond)
