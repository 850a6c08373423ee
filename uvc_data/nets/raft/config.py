"""Hyper-parameters of RAFT's basic ("large") model, the one raft-things.pth holds (RAFT paper §3, official code)."""
from __future__ import annotations

from dataclasses import dataclass

from uvc_data.errors import ConfigError


@dataclass(frozen=True)
class RAFTConfig:
    feature_dim: int = 256  # fnet output channels (instance norm); correlation features D
    hidden_dim: int = 128  # GRU hidden state h (cnet output split: tanh → h₀)
    context_dim: int = 128  # context features (cnet output split: relu → x_ctx)
    encoder_dims: tuple[int, int, int] = (64, 96, 128)  # residual stages at 1/2, 1/4, 1/8 resolution
    corr_levels: int = 4  # correlation pyramid levels (avg-pooled by 2 each)
    corr_radius: int = 4  # lookup window (2r+1)² per level
    mask_scale: float = 0.25  # convex-upsampling mask is multiplied by this ("to balance gradients")
    upsample: int = 8  # flow is predicted at 1/8 and convexly upsampled ×8

    def validate(self) -> None:
        if self.corr_levels < 1:
            raise ConfigError("corr_levels", f"must be ≥ 1, got {self.corr_levels}")
        if self.corr_radius < 1:
            raise ConfigError("corr_radius", f"must be ≥ 1, got {self.corr_radius}")
        if self.upsample != 8:
            raise ConfigError("upsample", "RAFT's encoders downsample by exactly 8; keep 8")

    @property
    def min_size(self) -> int:
        """Smallest image side: the coarsest pyramid level (1/(8·2^(L−1))) needs ≥ 2 cells, else the lookup's
        coordinate normalisation divides by zero (the official code returns NaN there). 128 for raft-things."""
        return self.upsample * 2 ** (self.corr_levels - 1) * 2

    @property
    def corr_planes(self) -> int:
        """Channels of one lookup: levels · (2r+1)² (= 324 for raft-things)."""
        return self.corr_levels * (2 * self.corr_radius + 1) ** 2
