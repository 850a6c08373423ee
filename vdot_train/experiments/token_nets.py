"""A small token network with the Denoiser call contract (x_t [B, D, 1, H, W], t [B], text, context) →
DenoiserOutput(velocity, features of the asked blocks [B, K, width], temb [B, width]), so the VDOT trainer runs on
token clouds unchanged: generator, fake score and discriminator features all come from it."""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor, nn

from vdot_train.models.denoiser import DenoiserOutput


def time_features(t: Tensor) -> Tensor:
    """[B] timesteps → [B, 9]: σ and sin/cos of σ at 4 frequencies."""
    sigma = (t.float() / 1000).unsqueeze(-1)
    freqs = torch.tensor([1.0, 2.0, 4.0, 8.0], device=t.device) * math.pi
    return torch.cat([sigma, torch.sin(sigma * freqs), torch.cos(sigma * freqs)], dim=-1)


class MixBlock(nn.Module):
    """h ← h + MLP(h + W·mean_k h): a per-token MLP that also sees the cloud's mean (cheap global mixing)."""

    def __init__(self, width: int):
        super().__init__()
        self.mix = nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, 2 * width), nn.SiLU(), nn.Linear(2 * width, width))

    def forward(self, h: Tensor) -> Tensor:
        return h + self.mlp(h + self.mix(h.mean(1, keepdim=True)))


class TokenDenoiser(nn.Module):
    """Per-token input + learned position + time embedding, `layers` MixBlocks, linear out (velocity per token)."""

    def __init__(self, channels: int = 2, tokens: int = 16, width: int = 64, layers: int = 3):
        super().__init__()
        self.inp = nn.Linear(channels, width)
        self.pos = nn.Parameter(torch.randn(tokens, width) * 0.02)
        self.time = nn.Sequential(nn.Linear(9, width), nn.SiLU(), nn.Linear(width, width))
        self.blocks = nn.ModuleList(MixBlock(width) for _ in range(layers))
        self.out = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, channels))

    @property
    def num_blocks(self) -> int:
        return len(self.blocks)

    @property
    def dim(self) -> int:
        return self.inp.out_features

    def forward(self, x_t: Tensor, t: Tensor, text_emb: Tensor | None = None, context: Tensor | None = None,
                context_scale: float = 1.0, return_features: Sequence[int] = ()) -> DenoiserOutput:
        B = x_t.shape[0]
        tokens = x_t.float().flatten(2).transpose(1, 2)  # [B, K, D]
        t = t.reshape(-1).expand(B)
        temb = self.time(time_features(t))  # [B, W]
        h = self.inp(tokens) + self.pos + temb.unsqueeze(1)  # [B, K, W]
        feats = []
        for i, blk in enumerate(self.blocks):
            h = blk(h)
            if i in return_features:
                feats.append(h)
        v = self.out(h).transpose(1, 2).reshape(x_t.shape)
        return DenoiserOutput(velocity=v, features=feats, temb=temb)
