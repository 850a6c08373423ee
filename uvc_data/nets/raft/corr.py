"""RAFT's 4-D correlation volume and its multi-scale lookup (RAFT paper §3.2, "Computing Visual Similarity")."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def coords_grid(batch: int, height: int, width: int, device: torch.device | str) -> torch.Tensor:
    """Pixel coordinates (B, 2, H, W): channel 0 = x (column), channel 1 = y (row)."""
    ys, xs = torch.meshgrid(torch.arange(height, device=device), torch.arange(width, device=device), indexing="ij")
    return torch.stack([xs, ys]).float()[None].repeat(batch, 1, 1, 1)


def all_pairs_correlation(fmap1_BDHW: torch.Tensor, fmap2_BDHW: torch.Tensor) -> torch.Tensor:
    """Eq. 1: C_ijkl = Σ_h g(I₁)_ijh · g(I₂)_klh, divided by √D as the official code does.
    Returns (B·H·W, 1, H, W): one correlation map over image 2 per pixel of image 1."""
    b, d, h, w = fmap1_BDHW.shape
    f1_BND = fmap1_BDHW.view(b, d, h * w).transpose(1, 2)
    f2_BDN = fmap2_BDHW.view(b, d, h * w)
    corr_BNN = torch.matmul(f1_BND, f2_BDN)
    return corr_BNN.view(b * h * w, 1, h, w) / torch.sqrt(torch.tensor(d).float())


def correlation_pyramid(corr_N1HW: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """{C¹, …, C^L}: the last two dimensions average-pooled with kernels 1, 2, 4, 8 (§3.2, "Correlation Pyramid")."""
    pyramid = [corr_N1HW]
    for _ in range(levels - 1):
        pyramid.append(F.avg_pool2d(pyramid[-1], 2, stride=2))
    return pyramid


def window_offsets(radius: int, device: torch.device | str) -> torch.Tensor:
    """The (2r+1)×(2r+1) lookup window as (2r+1, 2r+1, 2) (x, y) offsets. As in the official code (and so in the
    trained weights' channel order) the x offset varies along the FIRST window axis and y along the second."""
    d = torch.linspace(-radius, radius, 2 * radius + 1, device=device)
    first, second = torch.meshgrid(d, d, indexing="ij")
    return torch.stack([first, second], dim=-1)


def bilinear_lookup(maps_N1HW: torch.Tensor, xy_Nhw2: torch.Tensor) -> torch.Tensor:
    """Sample maps at pixel coordinates (x, y) with bilinear interpolation, zeros outside (grid_sample,
    align_corners=True). Returns (N, 1, h, w)."""
    height, width = maps_N1HW.shape[-2:]
    x, y = xy_Nhw2.split([1, 1], dim=-1)
    grid = torch.cat([2 * x / (width - 1) - 1, 2 * y / (height - 1) - 1], dim=-1)
    return F.grid_sample(maps_N1HW, grid, align_corners=True)


class CorrLookup:
    """Build the pyramid once per image pair; each call indexes it around the current correspondences coords1:
    L levels × (2r+1)² bilinear samples at coords1 / 2^l + offsets (§3.2, "Correlation Lookup")."""

    def __init__(self, fmap1_BDHW: torch.Tensor, fmap2_BDHW: torch.Tensor, levels: int, radius: int) -> None:
        self.radius = radius
        self.pyramid = correlation_pyramid(all_pairs_correlation(fmap1_BDHW, fmap2_BDHW), levels)

    def __call__(self, coords1_B2HW: torch.Tensor) -> torch.Tensor:
        b, _, h, w = coords1_B2HW.shape
        k = 2 * self.radius + 1
        centre_N112 = coords1_B2HW.permute(0, 2, 3, 1).reshape(b * h * w, 1, 1, 2)
        offsets_1kk2 = window_offsets(self.radius, coords1_B2HW.device).view(1, k, k, 2)
        levels = []
        for lvl, corr_N1HW in enumerate(self.pyramid):
            sampled_N1kk = bilinear_lookup(corr_N1HW, centre_N112 / 2**lvl + offsets_1kk2)
            levels.append(sampled_N1kk.view(b, h, w, k * k))
        return torch.cat(levels, dim=-1).permute(0, 3, 1, 2).contiguous()  # (B, L·(2r+1)², H, W)


def corr_volume_bytes(height: int, width: int, levels: int = 4) -> int:
    """float32 bytes of one pair's correlation pyramid at image size H×W (feature maps at 1/8): (HW/64)² · Σ 4^-l."""
    n = math.ceil(height / 8) * math.ceil(width / 8)
    return int(4 * n * n * sum(4.0**-lvl for lvl in range(levels)))
