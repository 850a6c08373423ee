"""MUSIQ's ResNet-style patch stem (BiT-style: weight-standardised convs + GroupNorm, TF 'SAME' padding).

Per P×P patch: StdConv 7×7/2 → GroupNorm → ReLU → SAME-padded max-pool 3×3/2 → one bottleneck block (64 → 256).
Parameter names match pyiqa's MUSIQ (conv_root, gn_root, block1.{conv1,gn1,conv2,gn2,conv3,gn3,conv_proj,gn_proj}).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from uvc_bench.metrics.nets.musiq.patches import pad_same

WS_EPS = 1e-5  # added to the standard deviation in weight standardisation (pyiqa / BiT)


def standardize_weight(weight_OIhw: torch.Tensor) -> torch.Tensor:
    """Weight Standardization (Qiao et al. 2019, Eq. 5–6): Ŵ = (W − μ) / (σ + 1e-5), μ and the unbiased σ taken per
    output filter over (in, kh, kw)."""
    centred = weight_OIhw - weight_OIhw.mean((1, 2, 3), keepdim=True)
    return centred / (centred.std((1, 2, 3), keepdim=True) + WS_EPS)


class StdConv2d(nn.Conv2d):
    """Conv2d with standardised weights and TF 'SAME' zero padding (pyiqa StdConv); dilation 1, no groups."""

    def forward(self, x_NCHW: torch.Tensor) -> torch.Tensor:
        x = pad_same(x_NCHW, self.kernel_size[0], self.stride[0])
        return F.conv2d(x, standardize_weight(self.weight), self.bias, self.stride)


def max_pool_same(x_NCHW: torch.Tensor, kernel: int = 3, stride: int = 2) -> torch.Tensor:
    """Max-pool after zero 'SAME' padding (pyiqa's root_pool: ExactPadding2d(3, 2, 'same') then MaxPool2d(3, 2))."""
    return F.max_pool2d(pad_same(x_NCHW, kernel, stride), kernel, stride)


class Bottleneck(nn.Module):
    """1×1 → 3×3 → 1×1 StdConvs (width = inplanes) with GroupNorm(32, eps 1e-4), plus a projected shortcut when the
    width changes. pyiqa's block ignores `stride` except in the projection; MUSIQ uses stride 1 throughout."""

    def __init__(self, inplanes: int, outplanes: int, stride: int = 1):
        super().__init__()
        width = inplanes
        self.conv1 = StdConv2d(inplanes, width, 1, 1, bias=False)
        self.gn1 = nn.GroupNorm(32, width, eps=1e-4)
        self.conv2 = StdConv2d(width, width, 3, 1, bias=False)
        self.gn2 = nn.GroupNorm(32, width, eps=1e-4)
        self.conv3 = StdConv2d(width, outplanes, 1, 1, bias=False)
        self.gn3 = nn.GroupNorm(32, outplanes, eps=1e-4)
        self.needs_projection = inplanes != outplanes or stride != 1
        if self.needs_projection:
            self.conv_proj = StdConv2d(inplanes, outplanes, 1, stride, bias=False)
            self.gn_proj = nn.GroupNorm(32, outplanes, eps=1e-4)

    def forward(self, x_NCHW: torch.Tensor) -> torch.Tensor:
        identity = self.gn_proj(self.conv_proj(x_NCHW)) if self.needs_projection else x_NCHW
        y = F.relu(self.gn1(self.conv1(x_NCHW)))
        y = F.relu(self.gn2(self.conv2(y)))
        y = self.gn3(self.conv3(y))
        return F.relu(y + identity)
