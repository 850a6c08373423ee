"""RAFT's feature and context encoders: a 7×7/2 stem and three stages of two residual blocks (1/2, 1/4, 1/8),
then a 1×1 projection. fnet uses instance norm (no parameters), cnet batch norm (eval: running statistics)."""
from __future__ import annotations

from typing import Literal

import torch
from torch import nn

Norm = Literal["instance", "batch"]


def make_norm(kind: Norm, channels: int) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(channels)  # affine=False, no running stats: no state-dict entries
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    raise ValueError(f"norm {kind!r} is not one of ['instance', 'batch']")


class ResidualBlock(nn.Module):
    """relu(skip(x) + relu(n2(c2(relu(n1(c1(x))))))); skip = 1×1 strided conv + norm when stride > 1."""

    def __init__(self, in_ch: int, out_ch: int, norm: Norm, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1, stride=stride)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.norm1, self.norm2 = make_norm(norm, out_ch), make_norm(norm, out_ch)
        self.downsample = None
        if stride != 1:
            # the official block names this norm `norm3` and also holds it inside `downsample`: both keys exist
            self.norm3 = make_norm(norm, out_ch)
            self.downsample = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride=stride), self.norm3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.norm1(self.conv1(x)))
        y = torch.relu(self.norm2(self.conv2(y)))
        skip = x if self.downsample is None else self.downsample(x)
        return torch.relu(skip + y)


class BasicEncoder(nn.Module):
    """(B, 3, H, W) in [−1, 1] → (B, out_dim, H/8, W/8)."""

    def __init__(self, out_dim: int, norm: Norm, dims: tuple[int, int, int] = (64, 96, 128)) -> None:
        super().__init__()
        stem = dims[0]
        self.norm1 = make_norm(norm, stem)  # registered before conv1, as the official module (state-dict order)
        self.conv1 = nn.Conv2d(3, stem, 7, stride=2, padding=3)
        self.layer1 = self._stage(stem, dims[0], norm, 1)
        self.layer2 = self._stage(dims[0], dims[1], norm, 2)
        self.layer3 = self._stage(dims[1], dims[2], norm, 2)
        self.conv2 = nn.Conv2d(dims[2], out_dim, 1)

    @staticmethod
    def _stage(in_ch: int, out_ch: int, norm: Norm, stride: int) -> nn.Sequential:
        return nn.Sequential(ResidualBlock(in_ch, out_ch, norm, stride), ResidualBlock(out_ch, out_ch, norm, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.norm1(self.conv1(x)))  # (B, 64, H/2, W/2)
        x = self.layer3(self.layer2(self.layer1(x)))  # (B, 128, H/8, W/8)
        return self.conv2(x)
