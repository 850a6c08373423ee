"""Token-cloud data for the faithful OTD experiment: each sample is one "latent frame" of K tokens in R^D, laid out as a
latent [B, D, 1, H, W] (K = H·W tokens, D channels), so the trainer's OTD takes each sample's tokens as one point cloud
exactly as it takes the tokens of one latent frame.

Target: a mixture of M token-cloud shapes, x0 = μ_m + s·ξ (μ_m [K, D] a template, ξ ~ N(0, I), equal weights): a
Gaussian mixture in R^{K·D}, so the real score is exact (GMM-1…3 of gmm_target.py in K·D dimensions, TC-1):
    E[x0 | x_t] = Σ_m w_m(x_t) (μ_m + (1 − σ)s²/v·(x_t − (1 − σ)μ_m)),  v = (1 − σ)²s² + σ²,
    w_m ∝ exp(−‖x_t − (1 − σ)μ_m‖² / 2v)
Metrics are set-level: a generated cloud is compared with each template after the best token matching (Hungarian),
so a generator that outputs the right set in another token order is scored as right (TC-2).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from vdot_train.flow import sigma_of
from vdot_train.models.denoiser import DenoiserOutput


def _shapes(k_side: int) -> list[Tensor]:
    """Four K-token templates in 2-D (K = k_side²): ring, grid, line, two clusters; each at its own place."""
    k = k_side * k_side
    a = torch.arange(k, dtype=torch.float64) * (2 * math.pi / k)
    ring = torch.stack([a.cos(), a.sin()], -1) * 0.8 + torch.tensor([-1.2, 1.2])
    g = torch.linspace(-0.7, 0.7, k_side, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(g, g, indexing="ij"), -1).reshape(k, 2) + torch.tensor([1.2, 1.2])
    s = torch.linspace(-1.0, 1.0, k, dtype=torch.float64)
    line = torch.stack([s, 0.5 * s], -1) + torch.tensor([-1.2, -1.2])
    half = torch.arange(k) < k // 2
    jitter = torch.stack([torch.linspace(-0.3, 0.3, k, dtype=torch.float64), torch.zeros(k, dtype=torch.float64)], -1)
    clusters = torch.where(half[:, None], torch.tensor([0.7, -1.2]), torch.tensor([1.7, -1.2])) + jitter
    return [ring, grid, line, clusters]


@dataclass
class TokenCloudMixture:
    templates: Tensor  # [M, K, D] float64
    std: float  # per-token jitter s
    side: int  # latent frame is side × side tokens

    @classmethod
    def default(cls, side: int = 4, std: float = 0.05) -> "TokenCloudMixture":
        return cls(torch.stack(_shapes(side)), std, side)

    @property
    def num_modes(self) -> int:
        return self.templates.shape[0]

    @property
    def latent_shape(self) -> tuple[int, int, int, int]:
        """[D, 1, H, W] of one sample."""
        return (self.templates.shape[-1], 1, self.side, self.side)

    def to_latent(self, clouds_BKD: Tensor) -> Tensor:
        """[B, K, D] → [B, D, 1, H, W] (token k at row k // W, column k % W, as frame_points reads them back)."""
        B, K, D = clouds_BKD.shape
        return clouds_BKD.transpose(1, 2).reshape(B, D, 1, self.side, self.side)

    def to_clouds(self, latent_BDTHW: Tensor) -> Tensor:
        return latent_BDTHW.flatten(2).transpose(1, 2)  # [B, K, D]

    def sample(self, n: int, generator: torch.Generator | None = None, stratified: bool = False) -> Tensor:
        """n clouds as latents [n, D, 1, H, W] float32."""
        if stratified:
            m = torch.arange(n) % self.num_modes
        else:
            m = torch.randint(0, self.num_modes, (n,), generator=generator)
        x = self.templates[m] + self.std * torch.randn(self.templates[m].shape, generator=generator,
                                                       dtype=torch.float64)
        return self.to_latent(x).float()

    def posterior_x0(self, x_t: Tensor, t: Tensor) -> Tensor:
        """TC-1: exact E[x0 | x_t] for latents [B, D, 1, H, W] at t [B]; float64 inside."""
        x = self.to_clouds(x_t.detach().double()).flatten(1)  # [B, K·D]
        mu = self.templates.flatten(1)  # [M, K·D]
        sigma = sigma_of(t, x)  # [B, 1]
        a = 1 - sigma
        var = a**2 * self.std**2 + sigma**2
        centred = x.unsqueeze(1) - a.unsqueeze(-1) * mu  # [B, M, K·D]
        w = torch.softmax(-0.5 * centred.pow(2).sum(-1) / var, dim=-1)  # [B, M]
        comp = mu + (a * self.std**2 / var).unsqueeze(-1) * centred
        x0 = (w.unsqueeze(-1) * comp).sum(1)  # [B, K·D]
        return self.to_latent(x0.reshape(x.shape[0], -1, self.templates.shape[-1])).to(x_t.dtype)

    def token_spacing_sq(self) -> float:
        """δ²: median over templates and tokens of the squared distance to the nearest other token of the cloud."""
        d = torch.cdist(self.templates, self.templates).pow(2)  # [M, K, K]
        d = d + torch.eye(d.shape[-1], dtype=d.dtype) * 1e9
        return float(d.min(-1).values.median())


class ExactTeacher(nn.Module):
    """The real score F_ψ as a denoiser: velocity (x_t − E[x0 | x_t])/σ (FM-3 inverted), no parameters."""

    def __init__(self, target: TokenCloudMixture):
        super().__init__()
        self.target = target

    def forward(self, x_t: Tensor, t: Tensor, text_emb: Tensor | None = None, context: Tensor | None = None,
                context_scale: float = 1.0, return_features=()) -> DenoiserOutput:
        t = t.reshape(-1).expand(x_t.shape[0]).float()
        x0 = self.target.posterior_x0(x_t.float(), t)
        return DenoiserOutput(velocity=(x_t.float() - x0) / sigma_of(t, x_t))


def _matched_sq(clouds: np.ndarray, template: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per cloud: mean squared token distance after the best matching, and without matching (given order)."""
    from scipy.optimize import linear_sum_assignment

    matched, ordered = np.empty(len(clouds)), np.empty(len(clouds))
    for i, c in enumerate(clouds):
        cost = ((c[:, None, :] - template[None, :, :]) ** 2).sum(-1)  # [K, K]
        r, col = linear_sum_assignment(cost)
        matched[i] = cost[r, col].mean()
        ordered[i] = np.trace(cost) / len(c)
    return matched, ordered


def cloud_metrics(target: TokenCloudMixture, latents: Tensor, near_factor: float = 3.0,
                  min_share_of_expected: float = 0.1) -> dict[str, float]:
    """TC-2 metrics of generated clouds (latents [n, D, 1, H, W]).

    set_rms: RMS token distance to the nearest template after matching, in units of s·√D (real data ≈ 1);
    ordered_rms: the same in the given token order; near_mode: share of clouds with set_rms < near_factor;
    modes_covered: modes whose near count reaches min_share_of_expected × n/M; mode_tv: ½Σ|p̂_m − 1/M| of the
    nearest-template histogram of all clouds.
    """
    clouds = target.to_clouds(latents.double()).numpy()
    tmpl = target.templates.numpy()
    per_mode = [_matched_sq(clouds, t) for t in tmpl]
    matched = np.stack([m for m, _ in per_mode], 1)  # [n, M]
    ordered = np.stack([o for _, o in per_mode], 1)
    unit = target.std**2 * tmpl.shape[-1] / 1.0  # E‖sξ‖² per token = s²·D
    best = matched.argmin(1)
    set_rms = np.sqrt(matched[np.arange(len(best)), best] / unit)
    ord_rms = np.sqrt(ordered.min(1) / unit)
    near = set_rms < near_factor
    M, n = target.num_modes, len(best)
    counts = np.bincount(best[near], minlength=M)
    share = np.bincount(best, minlength=M) / n
    return {"modes_covered": float((counts >= min_share_of_expected * n / M).sum()), "near_mode": float(near.mean()),
            "mode_tv": float(0.5 * np.abs(share - 1.0 / M).sum()), "set_rms": float(np.median(set_rms)),
            "ordered_rms": float(np.median(ord_rms))}
