"""VBench's frame preprocessing, reproduced on torch tensors without importing torchvision (no CPU build here).

VBench's `load_video` turns the decoded uint8 frames into a float32 tensor (`torch.Tensor(frames)`) before any
transform, so every resize runs on float frames in [0, 255]: no rounding back to uint8 and no clamping between the
decode and the network (bicubic may overshoot [0, 255]; VBench keeps that). torchvision's Resize on a float tensor is
`interpolate(..., align_corners=False, antialias=False)`, which is what `resize_float` does.

Shapes: x_NCHW uint8 (or float) tensors in, float tensors out.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)


def to_nchw(frames_NHWC: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(frames_NHWC)).permute(0, 3, 1, 2)


def resize_float(x_NCHW: torch.Tensor, size: tuple[int, int], mode: str) -> torch.Tensor:
    """torchvision.transforms.Resize(size, interpolation=mode, antialias=False) on VBench's float32 frames in
    [0, 255]: no rounding, no clamping."""
    x = x_NCHW.float()
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=False)


def shorter_side_size(height: int, width: int, short: int) -> tuple[int, int]:
    """torchvision's Resize(int): the shorter side becomes `short`, the longer int(short · long / short_side)."""
    if height <= width:
        return short, int(short * width / height)
    return int(short * height / width), short


def center_crop(x_NCHW: torch.Tensor, size: int) -> torch.Tensor:
    """torchvision CenterCrop (offsets int(round((H − size) / 2)))."""
    h, w = x_NCHW.shape[-2:]
    top, left = int(round((h - size) / 2.0)), int(round((w - size) / 2.0))
    return x_NCHW[..., top : top + size, left : left + size]


def normalize(x01_NCHW: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    m = torch.tensor(mean, dtype=x01_NCHW.dtype).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=x01_NCHW.dtype).view(1, 3, 1, 1)
    return (x01_NCHW - m) / s


def dino_transform(x_NCHW: torch.Tensor, n_px: int = 224) -> torch.Tensor:
    """Subject consistency: shorter side → 224 (bilinear, no antialias, no crop), /255, ImageNet mean/std."""
    size = shorter_side_size(*x_NCHW.shape[-2:], n_px)
    return normalize(resize_float(x_NCHW, size, "bilinear") / 255.0, IMAGENET_MEAN, IMAGENET_STD)


def clip_transform(x_NCHW: torch.Tensor, n_px: int = 224) -> torch.Tensor:
    """Background consistency / aesthetic quality: shorter side → 224 bicubic, centre crop 224, CLIP mean/std."""
    size = shorter_side_size(*x_NCHW.shape[-2:], n_px)
    x = center_crop(resize_float(x_NCHW, size, "bicubic"), n_px)
    return normalize(x / 255.0, CLIP_MEAN, CLIP_STD)


def musiq_transform(x_NCHW: torch.Tensor, longer: int = 512) -> torch.Tensor:
    """Imaging quality ('longer' mode): if the longer side > 512, scale it to 512 (bilinear, no antialias), /255."""
    h, w = x_NCHW.shape[-2:]
    if max(h, w) > longer:
        scale = longer / max(h, w)
        return resize_float(x_NCHW, (int(scale * h), int(scale * w)), "bilinear") / 255.0
    return x_NCHW.float() / 255.0


def pad_sizes(height: int, width: int, divisor: int) -> tuple[int, int, int, int]:
    """RAFT/AMT InputPadder: (left, right, top, bottom) replicate padding to a multiple of `divisor`, centred."""
    ph = (((height // divisor) + 1) * divisor - height) % divisor
    pw = (((width // divisor) + 1) * divisor - width) % divisor
    return pw // 2, pw - pw // 2, ph // 2, ph - ph // 2


def pad_replicate(x_NCHW: torch.Tensor, divisor: int) -> tuple[torch.Tensor, tuple[int, int, int, int]]:
    pads = pad_sizes(*x_NCHW.shape[-2:], divisor)
    return F.pad(x_NCHW, pads, mode="replicate"), pads


def unpad(x_NCHW: torch.Tensor, pads: tuple[int, int, int, int]) -> torch.Tensor:
    left, right, top, bottom = pads
    h, w = x_NCHW.shape[-2:]
    return x_NCHW[..., top : h - bottom, left : w - right]
