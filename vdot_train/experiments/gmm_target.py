"""A 2-D Gaussian-mixture target with an exact denoiser, and the sample-quality metrics of the 2-D experiment.

Target p(x0) = Σ_k π_k N(μ_k, s²I). Under x_t = (1 − σ)x0 + σε (flow FM-1):
    x_t | k ~ N((1 − σ)μ_k, v I),   v = (1 − σ)²s² + σ²                                         (GMM-1)
    E[x0 | x_t, k] = μ_k + (1 − σ)s²/v · (x_t − (1 − σ)μ_k)                                       (GMM-2)
    E[x0 | x_t] = Σ_k w_k(x_t) E[x0 | x_t, k],   w_k ∝ π_k N(x_t; (1 − σ)μ_k, v I)                 (GMM-3)
GMM-3 is the exact x0-prediction of the real score (the "teacher") used by DMD and OTD.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from uvc_data.imports import require
from vdot_train.flow import sigma_of


@dataclass
class GaussianMixture2D:
    means: Tensor  # [K, 2]
    std: float
    weights: Tensor  # [K], sums to 1

    @classmethod
    def ring(cls, modes: int = 8, radius: float = 2.5, std: float = 0.1) -> "GaussianMixture2D":
        angle = torch.arange(modes, dtype=torch.float64) * (2 * math.pi / modes)
        means = radius * torch.stack([angle.cos(), angle.sin()], dim=-1)
        return cls(means=means, std=std, weights=torch.full((modes,), 1.0 / modes, dtype=torch.float64))

    @property
    def num_modes(self) -> int:
        return self.means.shape[0]

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n samples [n, 2] float32."""
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        x = self.means[k] + self.std * torch.randn(n, 2, generator=generator, dtype=torch.float64)
        return x.float()

    def sample_stratified(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n samples [n, 2] float32 with mode counts fixed to round(π_k·n) (no multinomial count noise)."""
        counts = torch.round(self.weights * n).long()
        counts[-1] = n - counts[:-1].sum()
        k = torch.repeat_interleave(torch.arange(self.num_modes), counts)
        x = self.means[k] + self.std * torch.randn(n, 2, generator=generator, dtype=torch.float64)
        return x.float()

    def posterior_x0(self, x_t: Tensor, t: Tensor | float) -> Tensor:
        """E[x0 | x_t] (GMM-1…3) for x_t [B, 2] at timesteps t ([B] or scalar); float64 inside, x_t's dtype out."""
        x = x_t.detach().double()
        sigma = sigma_of(t, x)  # [B, 1] or scalar
        a = 1 - sigma
        var = a**2 * self.std**2 + sigma**2  # [B, 1]
        centred = x.unsqueeze(1) - a.unsqueeze(-1) * self.means  # [B, K, 2]
        logits = self.weights.log() - 0.5 * centred.pow(2).sum(-1) / var  # [B, K] (shared normaliser dropped)
        w = torch.softmax(logits, dim=-1)
        comp = self.means + (a * self.std**2 / var).unsqueeze(-1) * centred  # [B, K, 2]
        return (w.unsqueeze(-1) * comp).sum(1).to(x_t.dtype)


def mode_metrics(target: GaussianMixture2D, samples: Tensor, radius_std: float = 3.0,
                 min_share_of_expected: float = 0.1) -> dict[str, float]:
    """near_mode: share of samples within radius_std·s of their nearest mode; modes_covered: modes whose near-mode
    count reaches min_share_of_expected × its expected count (π_k·n); mode_tv: total variation ½Σ_k|p̂_k − π_k|
    between the nearest-mode histogram of all samples and the mode weights (0 = balanced, → 1 = one mode)."""
    x = samples.double()
    d = torch.cdist(x, target.means)  # [n, K]
    dist, k = d.min(dim=1)
    near = dist < radius_std * target.std
    counts = torch.bincount(k[near], minlength=target.num_modes).double()
    expected = target.weights * x.shape[0]
    covered = int((counts >= min_share_of_expected * expected).sum())
    share = torch.bincount(k, minlength=target.num_modes).double() / x.shape[0]  # [K]
    tv = 0.5 * float((share - target.weights).abs().sum())
    return {"modes_covered": float(covered), "near_mode": float(near.double().mean()), "mode_tv": tv}


def w2_distance(a: Tensor, b: Tensor) -> float:
    """Exact W2 between two equal-weight samples: sqrt(ot.emd2(u, u, ‖a_i − b_j‖²))."""
    ot = require("ot", "pot", "the exact W2 metric of the 2-D experiment")
    a64, b64 = a.double().numpy(), b.double().numpy()
    M = ot.dist(a64, b64)
    u = ot.unif(a64.shape[0])
    v = ot.unif(b64.shape[0])
    return math.sqrt(max(float(ot.emd2(u, v, M, numItermax=1_000_000)), 0.0))
