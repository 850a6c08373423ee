"""Sampling helpers shared by AMT's blocks: bilinear resize, backward warping, pixel coordinate grids."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def resize(x_NCHW: torch.Tensor, scale_factor: float) -> torch.Tensor:
    """Bilinear rescale by `scale_factor` (align_corners=False), as every AMT block does."""
    return F.interpolate(x_NCHW, scale_factor=scale_factor, mode="bilinear", align_corners=False)


def warp(img_NCHW: torch.Tensor, flow_N2HW: torch.Tensor) -> torch.Tensor:
    """Backward warp: out(p) = img(p + flow(p)), bilinear, border padding. Sampling positions are built in
    grid_sample's [−1, 1] frame (align_corners=True: −1 and 1 are the outer pixel centres), flow scaled by
    2/(size−1)."""
    n, _, h, w = flow_N2HW.shape
    xs = torch.linspace(-1.0, 1.0, w).view(1, 1, 1, w).expand(n, -1, h, -1)
    ys = torch.linspace(-1.0, 1.0, h).view(1, 1, h, 1).expand(n, -1, -1, w)
    base_N2HW = torch.cat([xs, ys], 1).to(img_NCHW)
    step_N2HW = torch.cat([flow_N2HW[:, 0:1] / ((w - 1.0) / 2.0), flow_N2HW[:, 1:2] / ((h - 1.0) / 2.0)], 1)
    grid_NHW2 = (base_N2HW + step_N2HW).permute(0, 2, 3, 1)
    return F.grid_sample(img_NCHW, grid_NHW2, mode="bilinear", padding_mode="border", align_corners=True)


def coords_grid(batch: int, height: int, width: int, device: torch.device | str) -> torch.Tensor:
    """Pixel coordinates (B, 2, H, W), channel 0 = x (column), channel 1 = y (row)."""
    ys, xs = torch.meshgrid(torch.arange(height, device=device), torch.arange(width, device=device), indexing="ij")
    return torch.stack([xs, ys], dim=0).float()[None].repeat(batch, 1, 1, 1)
