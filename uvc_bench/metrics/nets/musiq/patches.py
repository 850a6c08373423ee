"""MUSIQ's multi-scale patch tokens (Ke et al., ICCV 2021, §3.1–3.2; pyiqa.data.multiscale_trans_util).

The image (already in [−1, 1]) is represented at each `longer_side_lengths` scale (aspect ratio kept, bicubic) and at
its original resolution. Each scale is cut into P×P patches (TF 'SAME' zero padding), each patch tagged with its
hash-based spatial position, its scale id and a validity mask; resized scales are padded (or cut) to ⌈L/P⌉² tokens,
the original resolution to `max_seq_len_from_original_res` tokens (−1: all of them).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from uvc_bench.metrics.nets.musiq.config import MusiqConfig


@dataclass
class PatchTokens:
    patches: torch.Tensor  # (N, L, 3, P, P) pixel patches
    spatial: torch.Tensor  # (N, L) int64 hashed spatial position in [0, G²)
    scale: torch.Tensor  # (N, L) int64 scale id
    mask: torch.Tensor  # (N, L) bool, False on padding tokens

    @staticmethod
    def cat(parts: list["PatchTokens"]) -> "PatchTokens":
        return PatchTokens(*(torch.cat([getattr(p, k) for p in parts], dim=1)
                             for k in ("patches", "spatial", "scale", "mask")))


def same_padding(size: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """TF 'SAME' padding of one axis as pyiqa computes it: the output has ⌈size/stride⌉ samples, the total padding
    (⌈size/stride⌉ − 1)·stride + (kernel − 1)·dilation + 1 − size is split ⌊·/2⌋ before, the rest after (not clamped
    at 0, as in pyiqa)."""
    total = (math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size
    return total // 2, total - total // 2


def pad_same(x_NCHW: torch.Tensor, kernel: int, stride: int = 1, dilation: int = 1) -> torch.Tensor:
    """Zero 'SAME' padding of both spatial axes (pyiqa.matlab_utils.exact_padding_2d, mode 'same')."""
    top, bottom = same_padding(x_NCHW.shape[-2], kernel, stride, dilation)
    left, right = same_padding(x_NCHW.shape[-1], kernel, stride, dilation)
    return F.pad(x_NCHW, (left, right, top, bottom))


def resize_longer_side(x_NCHW: torch.Tensor, length: int) -> torch.Tensor:
    """Aspect-preserving resize so the longer side is `length`: (round(h·r), round(w·r)), r = length / max(h, w)
    (Python's round), bicubic, align_corners=False, no antialias, no clamp — pyiqa's resize_preserve_aspect_ratio."""
    h, w = x_NCHW.shape[-2:]
    ratio = length / max(h, w)
    return F.interpolate(x_NCHW, (round(h * ratio), round(w * ratio)), mode="bicubic", align_corners=False)


def hashed_spatial_positions(grid: int, count_h: int, count_w: int) -> torch.Tensor:
    """Hash-based spatial position (MUSIQ §3.2, Eq. 2): patch (i, j) of a count_h × count_w grid → i'·G + j', where
    i', j' are the G-grid cells that nearest-neighbour resampling (torch's 'nearest' rule, as pyiqa) maps to i, j.
    Returns (count_h·count_w,) int64 in row-major patch order."""
    cells_1G = torch.arange(grid, dtype=torch.float32).view(1, 1, grid)
    rows = F.interpolate(cells_1G, size=count_h, mode="nearest").view(count_h, 1)
    cols = F.interpolate(cells_1G, size=count_w, mode="nearest").view(1, count_w)
    return (rows * grid + cols).reshape(-1).long()


def patchify(x_NCHW: torch.Tensor, patch: int) -> torch.Tensor:
    """Non-overlapping P×P patches after 'SAME' zero padding, row-major: (N, C, H, W) → (N, ⌈H/P⌉·⌈W/P⌉, C, P, P)."""
    x = pad_same(x_NCHW, patch, patch)
    n, c, hp, wp = x.shape
    gh, gw = hp // patch, wp // patch
    x = x.view(n, c, gh, patch, gw, patch).permute(0, 2, 4, 1, 3, 5)  # (N, gh, gw, C, P, P)
    return x.reshape(n, gh * gw, c, patch, patch)


def fit_length(tokens: PatchTokens, max_len: int) -> PatchTokens:
    """Pad with invalid tokens (zero patch, position 0, scale 0, mask False) or cut to exactly `max_len` tokens."""
    n, length = tokens.mask.shape
    if length >= max_len:
        return PatchTokens(tokens.patches[:, :max_len], tokens.spatial[:, :max_len], tokens.scale[:, :max_len],
                           tokens.mask[:, :max_len])
    extra = max_len - length
    pad = PatchTokens(tokens.patches.new_zeros((n, extra, *tokens.patches.shape[2:])),
                      tokens.spatial.new_zeros((n, extra)), tokens.scale.new_zeros((n, extra)),
                      tokens.mask.new_zeros((n, extra)))
    return PatchTokens.cat([tokens, pad])


def scale_tokens(x_NCHW: torch.Tensor, cfg: MusiqConfig, scale_id: int, max_len: int) -> PatchTokens:
    """Patches and position/scale/mask tags of one scale; max_len < 0 keeps every patch."""
    n, _, h, w = x_NCHW.shape
    p = cfg.patch_size
    patches = patchify(x_NCHW, p)
    spatial = hashed_spatial_positions(cfg.spatial_pos_grid_size, math.ceil(h / p), math.ceil(w / p))
    spatial_NL = spatial.to(x_NCHW.device).unsqueeze(0).expand(n, -1)
    tokens = PatchTokens(patches, spatial_NL, torch.full_like(spatial_NL, scale_id),
                         torch.ones_like(spatial_NL, dtype=torch.bool))
    return tokens if max_len < 0 else fit_length(tokens, max_len)


def multiscale_patches(x_NCHW: torch.Tensor, cfg: MusiqConfig) -> PatchTokens:
    """All scales' tokens, concatenated: sorted resized scales (ids 0, 1, ...), then the original resolution."""
    parts = []
    lengths = sorted(cfg.longer_side_lengths)
    for scale_id, length in enumerate(lengths):
        max_len = math.ceil(length / cfg.patch_size) ** 2
        parts.append(scale_tokens(resize_longer_side(x_NCHW, length), cfg, scale_id, max_len))
    if cfg.max_seq_len_from_original_res is not None:
        parts.append(scale_tokens(x_NCHW, cfg, len(lengths), cfg.max_seq_len_from_original_res))
    return PatchTokens.cat(parts)
