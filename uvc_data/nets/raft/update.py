"""RAFT's update operator (paper §3.3): motion encoder, separable ConvGRU, flow head and the convex-upsampling mask
head. Channel counts are those of the basic model (raft-things)."""
from __future__ import annotations

import torch
from torch import nn

from uvc_data.nets.raft.config import RAFTConfig


class MotionEncoder(nn.Module):
    """(flow, correlation lookup) → motion features: 126 conv channels with the 2 flow channels appended (128)."""

    def __init__(self, corr_planes: int, out_dim: int = 128) -> None:
        super().__init__()
        self.convc1 = nn.Conv2d(corr_planes, 256, 1)
        self.convc2 = nn.Conv2d(256, 192, 3, padding=1)
        self.convf1 = nn.Conv2d(2, 128, 7, padding=3)
        self.convf2 = nn.Conv2d(128, 64, 3, padding=1)
        self.conv = nn.Conv2d(64 + 192, out_dim - 2, 3, padding=1)

    def forward(self, flow_B2HW: torch.Tensor, corr_BCHW: torch.Tensor) -> torch.Tensor:
        cor = torch.relu(self.convc2(torch.relu(self.convc1(corr_BCHW))))
        flo = torch.relu(self.convf2(torch.relu(self.convf1(flow_B2HW))))
        out = torch.relu(self.conv(torch.cat([cor, flo], dim=1)))
        return torch.cat([out, flow_B2HW], dim=1)


def gru_step(h: torch.Tensor, x: torch.Tensor, convz: nn.Conv2d, convr: nn.Conv2d, convq: nn.Conv2d) -> torch.Tensor:
    """Eq. 4 (ConvGRU): z = σ(Conv[h, x]), r = σ(Conv[h, x]), q = tanh(Conv[r ⊙ h, x]), h' = (1 − z) ⊙ h + z ⊙ q."""
    hx = torch.cat([h, x], dim=1)
    z = torch.sigmoid(convz(hx))
    r = torch.sigmoid(convr(hx))
    q = torch.tanh(convq(torch.cat([r * h, x], dim=1)))
    return (1 - z) * h + z * q


class SepConvGRU(nn.Module):
    """Eq. 4 with the 3×3 convolutions replaced by a 1×5 GRU then a 5×1 GRU (paper §3.3, "Update")."""

    def __init__(self, hidden_dim: int, input_dim: int) -> None:
        super().__init__()
        cin = hidden_dim + input_dim
        for axis, (kernel, pad) in (("1", ((1, 5), (0, 2))), ("2", ((5, 1), (2, 0)))):
            for gate in "zrq":
                setattr(self, f"conv{gate}{axis}", nn.Conv2d(cin, hidden_dim, kernel, padding=pad))

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        h = gru_step(h, x, self.convz1, self.convr1, self.convq1)  # horizontal
        return gru_step(h, x, self.convz2, self.convr2, self.convq2)  # vertical


class FlowHead(nn.Module):
    """h → Δf (B, 2, H, W): two 3×3 convolutions with a ReLU between."""

    def __init__(self, input_dim: int, hidden_dim: int = 256) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(input_dim, hidden_dim, 3, padding=1)
        self.conv2 = nn.Conv2d(hidden_dim, 2, 3, padding=1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.conv2(torch.relu(self.conv1(h)))


class UpdateBlock(nn.Module):
    """(h, x_ctx, corr, flow) → (h', upsampling-mask logits (B, 9·8·8, H, W), Δf). Named as the official
    BasicUpdateBlock (`encoder`, `gru`, `flow_head`, `mask.0`, `mask.2`)."""

    def __init__(self, cfg: RAFTConfig) -> None:
        super().__init__()
        motion_dim = 128
        self.encoder = MotionEncoder(cfg.corr_planes, motion_dim)
        self.gru = SepConvGRU(cfg.hidden_dim, cfg.context_dim + motion_dim)
        self.flow_head = FlowHead(cfg.hidden_dim, 256)
        self.mask = nn.Sequential(
            nn.Conv2d(cfg.hidden_dim, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, cfg.upsample**2 * 9, 1))
        self.mask_scale = cfg.mask_scale

    def forward(self, h, x_ctx, corr, flow, need_mask: bool = True):
        x = torch.cat([x_ctx, self.encoder(flow, corr)], dim=1)
        h = self.gru(h, x)
        delta_flow = self.flow_head(h)
        mask = self.mask_scale * self.mask(h) if need_mask else None
        return h, mask, delta_flow
