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
from dataclasses import dataclass

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
    draw_min: int = 0,
    draw_max: int = NUM_TRAIN_TIMESTEPS,
) -> Tensor:
    """Training timesteps t = clamp(1000·σ'(k/1000), t_min, t_max), k ~ U{draw_min..draw_max−1} — FM-5 on an integer draw.

    The official VDOT draws (`model/bi_dmd_gan.py`): DMD, OTD and the fake score's denoising loss draw k in [20, 980)
    BEFORE the shift (5), then clamp to [20, 980] (so t ∈ [92.6, 980]); the GAN branch draws k in [0, 1000), shifts by
    12 and clamps to [20, 980]. `draw_min`/`draw_max` give the integer range, `t_min`/`t_max` the clamp after the
    shift. Returns float32 [batch].
    """
    _check_shift(shift)
    if not 0 <= t_min <= t_max <= NUM_TRAIN_TIMESTEPS:
        raise ValueError(f"need 0 <= t_min <= t_max <= 1000, got t_min={t_min}, t_max={t_max}")
    if not 0 <= draw_min < draw_max <= NUM_TRAIN_TIMESTEPS:
        raise ValueError(f"need 0 <= draw_min < draw_max <= 1000, got draw_min={draw_min}, draw_max={draw_max}")
    if device is None and generator is not None:
        device = generator.device
    k = torch.randint(int(draw_min), int(draw_max), (batch,), generator=generator, device=device)
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
    """The FM-5 warp of listed steps: t_k = 1000·σ'(s_k/1000) (Self-Forcing `warp_denoising_step` on a continuous table).

    Self-Forcing indexes the 1000-step shifted schedule σ_i = shift(1 − i/1000), i = 0..999 (plus a final 0) at
    i = 1000 − s_k, which is exactly FM-5 applied to s_k/1000; steps (1000, 750, 500, 250) at shift 5 →
    [1000, 937.5, 833.3, 625.0]. The VDOT trainer does not use this single list: see `student_schedule`.
    Returns float32 [K].
    """
    s = _check_steps(steps)
    return (shift_sigma(s / NUM_TRAIN_TIMESTEPS, shift) * NUM_TRAIN_TIMESTEPS).to(torch.float32)


def inference_timesteps(num_steps: int, shift: float) -> Tensor:
    """Wan UniPC inference schedule as model timesteps: t_k = 1000·`inference_sigmas(K, shift)`, float32 [K].

    Official VDOT inference, 4 steps, shift 16 → [999.94, 979.51, 941.07, 841.93] = the labels (and sigmas·1000) of
    `student_schedule("consistent")`.
    """
    return (inference_sigmas(num_steps, shift) * NUM_TRAIN_TIMESTEPS).to(torch.float32)


# --- the student's few-step schedule ------------------------------------------------------------------------------
OFFICIAL_STUDENT_STEPS = (1000, 750, 500, 250)
# the labels the official rollout calls the generator with (`pipeline/bi_training_vace.py`, hard-coded list); they are
# the shift-8 warp of OFFICIAL_STUDENT_STEPS to 4 decimals
OFFICIAL_GENERATOR_LABELS = (1000.0, 960.0, 888.8889, 727.2728)
SIGMA_MAX = 1.0 - 1.0 / NUM_TRAIN_TIMESTEPS  # first sigma of Wan's 1000-step base schedule


@dataclass(frozen=True)
class StudentSchedule:
    """The student's K steps as two lists (method.md, "Flow matching facts").

    labels [K]: the timestep t_k the generator is CALLED with; its x0 is recovered with σ = t_k/1000 (FM-3, FM-4).
    sigmas [K]: the true noise level of step k's input; the rollout re-noises x̂0 of step k to sigmas[k+1] (FM-1).
    sigmas[0] is never used (step 0's input is pure noise). In the `consistent` schedule labels = 1000·sigmas.
    """

    labels: Tensor
    sigmas: Tensor

    def __post_init__(self) -> None:
        if self.labels.shape != self.sigmas.shape or self.labels.ndim != 1 or len(self.labels) == 0:
            raise ValueError(f"labels {tuple(self.labels.shape)} and sigmas {tuple(self.sigmas.shape)} must be one "
                             "non-empty [K] shape")

    def __len__(self) -> int:
        return len(self.labels)

    def renoise_t(self, k: int) -> Tensor:
        """t = 1000·σ_k: the FM-1 level the rollout re-noises to before step k (k ≥ 1)."""
        return self.sigmas[k] * NUM_TRAIN_TIMESTEPS

    def to(self, device: torch.device | str) -> "StudentSchedule":
        return StudentSchedule(self.labels.to(device), self.sigmas.to(device))


def unipc_table_sigmas(steps: Sequence[float], shift: float = 16.0) -> Tensor:
    """σ the official rollout re-noises to: Wan's UniPC table after `set_timesteps(1000, shift)`, read at 1000 − s_k.

    The table has σ_i = FM-5(linspace(σ_max, 0, 1001)[i]) with σ_max = 0.999 (float32), i = 0..999, and INTEGER
    timesteps ⌊1000·σ_i⌋; the step list is those integer timesteps at i = 1000 − s_k, and `add_noise` maps an integer
    timestep back to σ through the table, taking the second entry when several share it (the scheduler's
    `index_for_timestep`). Official steps, shift 16 → timesteps [999, 979, 941, 841], σ ≈ [0.99987, 0.97983, 0.94173,
    0.84122] (method.md rounds these as [1, 0.9796, 0.9412, 0.8421]). Returns float32 [K].
    """
    s = _check_steps(steps)
    sigma_max = float(torch.tensor(SIGMA_MAX, dtype=torch.float32))
    base = torch.linspace(sigma_max, 0.0, NUM_TRAIN_TIMESTEPS + 1, dtype=torch.float64)[:-1]
    table = shift_sigma(base, shift)  # [1000] float64, as numpy computes it
    t_int = (table * NUM_TRAIN_TIMESTEPS).to(torch.int64)  # truncation, as `.to(int64)` does
    table32 = table.to(torch.float32)
    out = []
    for step in s.tolist():
        i = NUM_TRAIN_TIMESTEPS - int(round(step))
        same = (t_int == t_int[i]).nonzero().flatten()
        out.append(table32[same[1] if len(same) > 1 else same[0]])
    return torch.stack(out)


def student_schedule(kind: str = "official", steps: Sequence[float] = OFFICIAL_STUDENT_STEPS,
                     label_shift: float = 8.0, sigma_shift: float = 16.0) -> StudentSchedule:
    """The one definition of the student's labels and re-noise levels, read by the rollout, the sampler and the tests.

    official:   labels = FM-5 warp of s_k/1000 at `label_shift` (8 → [1000, 960, 888.9, 727.3], the official code's
                hard-coded list), sigmas = `unipc_table_sigmas(steps, sigma_shift)` (16 → ≈ [1, 0.980, 0.942, 0.841]).
                The generator is told a lower noise level than its input has — what the released weights trained with.
    consistent: sigmas = FM-5(0.999·s_k/1000) at `sigma_shift`, labels = 1000·sigmas — exactly the steps the sampler
                (UniPC, 4 steps, shift 16) asks the student for: `inference_sigmas(4, 16)`.
    """
    s = _check_steps(steps)
    _check_shift(label_shift)
    _check_shift(sigma_shift)
    if kind == "official":
        labels = shift_sigma(s / NUM_TRAIN_TIMESTEPS, label_shift) * NUM_TRAIN_TIMESTEPS
        return StudentSchedule(labels.to(torch.float32), unipc_table_sigmas(steps, sigma_shift))
    if kind == "consistent":
        sigmas = shift_sigma(SIGMA_MAX * s / NUM_TRAIN_TIMESTEPS, sigma_shift).to(torch.float32)
        return StudentSchedule(sigmas * NUM_TRAIN_TIMESTEPS, sigmas)
    raise ValueError(f"student schedule must be 'official' or 'consistent', got {kind!r}")


def inference_sigmas(num_steps: int, shift: float) -> Tensor:
    """Base sigmas linspace(σ_max, 0, K+1)[:-1] of Wan's UniPC inference, shifted (FM-5); float64 [K]."""
    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    return shift_sigma(inference_base_sigmas(num_steps), shift)


def inference_base_sigmas(num_steps: int) -> Tensor:
    """linspace(σ_max, 0, K+1)[:-1], σ_max = 1 − 1/1000: what the sampler hands the scheduler before its shift."""
    return torch.linspace(SIGMA_MAX, 0.0, num_steps + 1, dtype=torch.float64)[:-1]


def renoise(x0_hat: Tensor, t_next: Tensor | float, generator: torch.Generator | None = None) -> Tensor:
    """Self-Forcing rollout step: x_{t_next} = (1 − σ)·x̂0 + σ·ε with fresh ε ~ N(0, I) (FM-1 at the next step's t)."""
    noise = torch.randn(x0_hat.shape, generator=generator, device=x0_hat.device, dtype=x0_hat.dtype)
    return add_noise(x0_hat, noise, t_next)


def cfg(v_uncond: Tensor, v_cond: Tensor, scale: float) -> Tensor:
    """Classifier-free guidance on the velocity: v = v_uncond + s·(v_cond − v_uncond) (official real score: s = 3)."""
    return v_uncond + scale * (v_cond - v_uncond)
