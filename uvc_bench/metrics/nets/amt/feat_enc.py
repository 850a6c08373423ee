"""The correlation feature encoder (RAFT's small encoder with instance norm; AMT networks/blocks/feat_enc.py):
3 → 32 (7×7, stride 2) → bottleneck stages 32, 64 (stride 2), 96 (stride 2) → 1×1 to `feat_dim`, at 1/8."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class Bottleneck(nn.Module):
    """1×1 → 3×3 (stride) → 1×1 at width planes/4, instance norm + ReLU after each, residual (1×1 strided
    projection + instance norm when downsampling), ReLU."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes // 4, kernel_size=1, padding=0)
        self.conv2 = nn.Conv2d(planes // 4, planes // 4, kernel_size=3, padding=1, stride=stride)
        self.conv3 = nn.Conv2d(planes // 4, planes, kernel_size=1, padding=0)
        self.downsample = None
        if stride != 1:  # index 0 is the checkpoint's `downsample.0`; the norm has no parameters
            self.downsample = nn.Sequential(nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride),
                                            nn.InstanceNorm2d(planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(F.instance_norm(self.conv1(x)))
        y = F.relu(F.instance_norm(self.conv2(y)))
        y = F.relu(F.instance_norm(self.conv3(y)))
        if self.downsample is not None:
            x = self.downsample(x)
        return F.relu(x + y)


def _stage(in_planes: int, planes: int, stride: int) -> nn.Sequential:
    return nn.Sequential(Bottleneck(in_planes, planes, stride), Bottleneck(planes, planes, 1))


class FeatureEncoder(nn.Module):
    def __init__(self, out_dim: int):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=7, stride=2, padding=3)
        self.layer1 = _stage(32, 32, 1)
        self.layer2 = _stage(32, 64, 2)
        self.layer3 = _stage(64, 96, 2)
        self.conv2 = nn.Conv2d(96, out_dim, kernel_size=1)

    def forward(self, x_NCHW: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) → (N, feat_dim, H/8, W/8). Instance norm is per sample, so both frames go in one batch."""
        x = F.relu(F.instance_norm(self.conv1(x_NCHW)))
        return self.conv2(self.layer3(self.layer2(self.layer1(x))))
