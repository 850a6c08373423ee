"""Bidirectional all-pairs correlation with a multi-level lookup (AMT networks/blocks/raft.py BidirCorrBlock;
RAFT's correlation volume, eq. "C_ijkl = Σ_h g_ijh f_klh", and its pyramid lookup, used in both directions)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def all_pairs_correlation(fmap0_BDHW: torch.Tensor, fmap1_BDHW: torch.Tensor) -> torch.Tensor:
    """C(p, q) = ⟨f0(p), f1(q)⟩ / √D for every pixel p of frame 0 and q of frame 1: (B, H·W, H·W)."""
    b, d, h, w = fmap0_BDHW.shape
    f0_BDP = fmap0_BDHW.view(b, d, h * w)
    f1_BDP = fmap1_BDHW.view(b, d, h * w)
    return torch.matmul(f0_BDP.transpose(1, 2), f1_BDP) / torch.sqrt(torch.tensor(d).float())


def window_offsets(radius: int, device: torch.device) -> torch.Tensor:
    """(1, 2r+1, 2r+1, 2) offsets added to (x, y) centroids. As in RAFT, element [i, j] is (d_i, d_j): the FIRST
    window axis moves x and the second moves y, which fixes the channel order the update blocks were trained on."""
    d = torch.linspace(-radius, radius, 2 * radius + 1, device=device)
    a, b = torch.meshgrid(d, d, indexing="ij")
    return torch.stack([a, b], dim=-1).view(1, 2 * radius + 1, 2 * radius + 1, 2)


def sample_pixels(img_NCHW: torch.Tensor, coords_NHW2: torch.Tensor) -> torch.Tensor:
    """Bilinear sampling at pixel coordinates (x, y), zeros outside (grid_sample, align_corners=True)."""
    h, w = img_NCHW.shape[-2:]
    x, y = coords_NHW2.split([1, 1], dim=-1)
    grid = torch.cat([2 * x / (w - 1) - 1, 2 * y / (h - 1) - 1], dim=-1)
    return F.grid_sample(img_NCHW, grid, align_corners=True)


class BidirectionalCorrelation:
    """Correlation pyramids of frame 0 against frame 1 and its transpose (frame 1 against frame 0), each level
    average-pooled 2×2 from the previous one; calling it reads a (2r+1)² window around given positions on every
    level."""

    def __init__(self, fmap0_BDHW: torch.Tensor, fmap1_BDHW: torch.Tensor, levels: int, radius: int):
        self.levels, self.radius = levels, radius
        b, _, h, w = fmap0_BDHW.shape
        corr = all_pairs_correlation(fmap0_BDHW, fmap1_BDHW).view(b, h, w, 1, h, w)
        corr_T = corr.permute(0, 4, 5, 3, 1, 2)  # frame-1 pixels first
        self.pyramid = [corr.reshape(b * h * w, 1, h, w)]  # (B·H·W, 1, H, W): one map per frame-0 pixel
        self.pyramid_T = [corr_T.reshape(b * h * w, 1, h, w)]
        for _ in range(levels - 1):
            self.pyramid.append(F.avg_pool2d(self.pyramid[-1], 2, stride=2))
            self.pyramid_T.append(F.avg_pool2d(self.pyramid_T[-1], 2, stride=2))

    def __call__(self, coords0_B2HW: torch.Tensor, coords1_B2HW: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Windows of C around coords0 (positions in frame 1 for each frame-0 pixel) and of Cᵀ around coords1:
        two (B, levels·(2r+1)², H, W) tensors, level-major."""
        if coords0_B2HW.shape != coords1_B2HW.shape:
            raise ValueError(f"coords0 {tuple(coords0_B2HW.shape)} and coords1 {tuple(coords1_B2HW.shape)} differ")
        b, _, h, w = coords0_B2HW.shape
        c0 = coords0_B2HW.permute(0, 2, 3, 1).reshape(b * h * w, 1, 1, 2)
        c1 = coords1_B2HW.permute(0, 2, 3, 1).reshape(b * h * w, 1, 1, 2)
        delta = window_offsets(self.radius, coords0_B2HW.device)
        out, out_T = [], []
        for i in range(self.levels):
            out.append(sample_pixels(self.pyramid[i], c0 / 2**i + delta).view(b, h, w, -1))
            out_T.append(sample_pixels(self.pyramid_T[i], c1 / 2**i + delta).view(b, h, w, -1))
        return (torch.cat(out, dim=-1).permute(0, 3, 1, 2).contiguous(),
                torch.cat(out_T, dim=-1).permute(0, 3, 1, 2).contiguous())
