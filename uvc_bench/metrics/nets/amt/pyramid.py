"""IFRNet-style building blocks (AMT networks/blocks/ifrnet.py): conv + PReLU, the side-channel residual block, and
the 4-level context encoder (each level: stride-2 conv + conv, PReLU after both)."""
from __future__ import annotations

import torch
import torch.nn as nn


def convrelu(cin: int, cout: int, kernel: int = 3, stride: int = 1, padding: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, padding, bias=True), nn.PReLU(cout))


class ResBlock(nn.Module):
    """x → conv1; the last `side` channels get an extra conv (conv2), then conv3 on all; again (conv4, conv5);
    PReLU(x + out)."""

    def __init__(self, channels: int, side: int):
        super().__init__()
        self.side = side
        self.conv1 = convrelu(channels, channels)
        self.conv2 = convrelu(side, side)
        self.conv3 = convrelu(channels, channels)
        self.conv4 = convrelu(side, side)
        self.conv5 = nn.Conv2d(channels, channels, kernel_size=3, stride=1, padding=1, bias=True)
        self.prelu = nn.PReLU(channels)

    def _side(self, out: torch.Tensor, conv: nn.Module) -> torch.Tensor:
        return torch.cat([out[:, : -self.side], conv(out[:, -self.side :])], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv3(self._side(self.conv1(x), self.conv2))
        out = self.conv5(self._side(out, self.conv4))
        return self.prelu(x + out)


class ContextEncoder(nn.Module):
    """Feature pyramid f_1..f_4 at 1/2, 1/4, 1/8, 1/16 of the input (checkpoint names pyramid1..pyramid4)."""

    def __init__(self, channels: tuple[int, ...]):
        super().__init__()
        self.depth = len(channels)
        prev = 3
        for idx, ch in enumerate(channels, 1):
            self.add_module(f"pyramid{idx}", nn.Sequential(convrelu(prev, ch, 3, 2, 1), convrelu(ch, ch, 3, 1, 1)))
            prev = ch

    def forward(self, x_NCHW: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for idx in range(1, self.depth + 1):
            x_NCHW = getattr(self, f"pyramid{idx}")(x_NCHW)
            feats.append(x_NCHW)
        return feats
