"""The residual update block after each decoder (AMT networks/blocks/raft.py SmallUpdateBlock): from the correlation
lookup, the current flow pair and the intermediate feature, predict Δfeature and Δflow (RAFT-style motion encoder)."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from uvc_bench.metrics.nets.amt.ops import resize


def _conv_lrelu_conv(cin: int, hidden: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, hidden, 3, padding=1), nn.LeakyReLU(0.1),
                         nn.Conv2d(hidden, cout, 3, padding=1))


class UpdateBlock(nn.Module):
    """Runs at the correlation resolution (1/8). `scale_factor` s: the feature arrives s× larger and is resized
    down by 1/s; Δfeature comes back resized by s and Δflow by s with values × s."""

    def __init__(self, cdim: int, hidden_dim: int, flow_dim: int, corr_dim: int, fc_dim: int, corr_planes: int,
                 scale_factor: int | None = None):
        super().__init__()
        self.scale_factor = scale_factor
        self.convc1 = nn.Conv2d(2 * corr_planes, corr_dim, 1, padding=0)
        self.convf1 = nn.Conv2d(4, flow_dim * 2, 7, padding=3)
        self.convf2 = nn.Conv2d(flow_dim * 2, flow_dim, 3, padding=1)
        self.conv = nn.Conv2d(corr_dim + flow_dim, fc_dim, 3, padding=1)
        self.gru = _conv_lrelu_conv(fc_dim + 4 + cdim, hidden_dim, hidden_dim)  # plain convs despite the name
        self.feat_head = _conv_lrelu_conv(hidden_dim, hidden_dim, cdim)
        self.flow_head = _conv_lrelu_conv(hidden_dim, hidden_dim, 4)

    def forward(self, feat: torch.Tensor, flow_B4HW: torch.Tensor, corr: torch.Tensor):
        s = self.scale_factor
        if s is not None:
            feat = resize(feat, 1 / s)
        cor = F.leaky_relu(self.convc1(corr), 0.1)
        flo = F.leaky_relu(self.convf2(F.leaky_relu(self.convf1(flow_B4HW), 0.1)), 0.1)
        motion = F.leaky_relu(self.conv(torch.cat([cor, flo], dim=1)), 0.1)
        hidden = self.gru(torch.cat([motion, flow_B4HW, feat], dim=1))
        delta_feat, delta_flow_B4HW = self.feat_head(hidden), self.flow_head(hidden)
        if s is not None:
            delta_feat = resize(delta_feat, s)
            delta_flow_B4HW = s * resize(delta_flow_B4HW, s)
        return delta_feat, delta_flow_B4HW
