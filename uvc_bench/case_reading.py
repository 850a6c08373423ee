"""How a case's videos are read: VACE's `VaceVideoProcessor` in keep-last mode, as VDOT's UVCBench scripts call it
(uvcbench.md, "How the official inference reads a case"). Facts reproduced, no code copied.

- Frames: with N source frames, F = df·min(⌊(N−1)/df⌋ + 1, ⌊L / a_z⌋) − df + 1 (df = 4, L = 32,760 tokens: F = 81
  for N ≥ 81). F timestamps are spaced evenly over the whole source, from 0 to the mean of the last frame's start and
  end time; each picks the first frame whose [start, end] interval contains it (161 frames at 30 fps → 0, 2, …, 160).
- Size: a_z = min(L, A/(16·16), ⌊h/16⌋·⌊w/16⌋) latent tokens at area A = 480·832; oh = round(√(a_z·h/w)),
  ow = ⌊a_z/oh⌋, times 16 (16:9 → 480×832). Frames are resized keeping the aspect (scale = max(ow/w, oh/h), sizes
  rounded, bicubic with antialias on the uint8 frames) and centre-cropped.
- Masks take the same frames and the same resize and stay continuous: m = clamp((m_[−1,1] + 1)/2, 0, 1), channel 0.
- Reference images: on a white canvas of the output size, scale = min(H/h, W/w), int() sizes, bilinear (no
  antialias, align_corners False) on the [−1, 1] image, centred.
Named deviations (`ReadingConfig`): an explicit output size and/or frame count (the same spread and resize + crop,
to that shape).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from uvc_data.errors import BadInputError

OFFICIAL_AREA = 480 * 832
OFFICIAL_SEQ_LEN = 32760  # Wan-VACE's token budget at 480·832 (prepare_source)
DOWNSAMPLE = (4, 16, 16)  # VAE stride × patch size: frames, height, width
READING_NAME = "vace_keep_last"  # recorded in results (generation.case_reading)


@dataclass(frozen=True)
class ReadingConfig:
    """area / seq_len: the official 480·832 run (720p runs use 1280·720 and 75,600). height / width / num_frames:
    0 = as the official inference derives them from the source; set = that shape (a deviation, recorded)."""

    area: int = OFFICIAL_AREA
    seq_len: int = OFFICIAL_SEQ_LEN
    height: int = 0
    width: int = 0
    num_frames: int = 0


@dataclass(frozen=True)
class ReadPlan:
    frame_ids: tuple[int, ...]
    height: int
    width: int

    @property
    def num_frames(self) -> int:
        return len(self.frame_ids)


def latent_area(h: int, w: int, cfg: ReadingConfig) -> int:
    """a_z = min(L, A/(dh·dw), ⌊h/dh⌋·⌊w/dw⌋)."""
    _, dh, dw = DOWNSAMPLE
    return int(min(cfg.seq_len, cfg.area / (dh * dw), (h // dh) * (w // dw)))


def output_frames(n_source: int, h: int, w: int, cfg: ReadingConfig = ReadingConfig()) -> int:
    """F = df·(min(⌊(N−1)/df⌋ + 1, ⌊L/a_z⌋) − 1) + 1."""
    df = DOWNSAMPLE[0]
    a_z = latent_area(h, w, cfg)
    if a_z < 1:
        raise BadInputError(f"a {w}×{h} source is smaller than one 16×16 latent patch; give a larger video")
    return (min((n_source - 1) // df + 1, int(cfg.seq_len / a_z)) - 1) * df + 1


def output_size(h: int, w: int, n_frames: int, cfg: ReadingConfig = ReadingConfig()) -> tuple[int, int]:
    """(oh, ow): the source's aspect at the token budget, multiples of 16."""
    _, dh, dw = DOWNSAMPLE
    a_z = latent_area(h, w, cfg)
    of = (n_frames - 1) // DOWNSAMPLE[0] + 1
    target = min(a_z, int(cfg.seq_len / of))
    oh = round(math.sqrt(target * h / w))
    ow = int(target / oh)
    return oh * dh, ow * dw


def spread_frame_ids(timestamps: np.ndarray, n_out: int) -> list[int]:
    """timestamps (N, 2) [start, end] in s → the frame containing each of n_out instants spaced over 0 … mean(last)."""
    ts = np.asarray(timestamps, dtype=np.float32)
    t = np.linspace(0.0, float(ts[-1].mean()), n_out)
    inside = (t[:, None] >= ts[None, :, 0]) & (t[:, None] <= ts[None, :, 1])
    return np.argmax(inside, axis=1).tolist()


def plan_reading(timestamps: np.ndarray, height: int, width: int, cfg: ReadingConfig = ReadingConfig()) -> ReadPlan:
    """Which source frames, and the output size, for a source of len(timestamps) frames of height × width."""
    n = len(timestamps)
    if n < 1:
        raise BadInputError("the source video has no frames")
    f = cfg.num_frames or output_frames(n, height, width, cfg)
    if cfg.num_frames and cfg.num_frames > n:
        raise BadInputError(f"the source has {n} frames, the run asks for {cfg.num_frames}; lower --frames or leave "
                            "it 0 (the official reading takes F = 4k+1 ≤ N frames)")
    if cfg.height and cfg.width:
        oh, ow = cfg.height, cfg.width
    else:
        oh, ow = output_size(height, width, f, cfg)
    return ReadPlan(tuple(spread_frame_ids(timestamps, f)), oh, ow)


def resize_crop(video_THWC: np.ndarray, oh: int, ow: int) -> np.ndarray:
    """uint8 (T, H, W, C) → uint8 (T, oh, ow, C): scale = max(ow/w, oh/h), bicubic + antialias on uint8 (rounded
    and clamped by torch), centre crop ((size − o) // 2)."""
    t, ih, iw = video_THWC.shape[:3]
    if (ih, iw) == (oh, ow):
        return video_THWC
    scale = max(ow / iw, oh / ih)
    x = torch.from_numpy(np.ascontiguousarray(video_THWC)).permute(0, 3, 1, 2)
    x = F.interpolate(x, size=(round(scale * ih), round(scale * iw)), mode="bicubic", antialias=True)
    y1, x1 = (x.shape[2] - oh) // 2, (x.shape[3] - ow) // 2
    return x[:, :, y1 : y1 + oh, x1 : x1 + ow].permute(0, 2, 3, 1).contiguous().numpy()


def mask_from_frames(mask_THWC: np.ndarray) -> np.ndarray:
    """uint8 mask frames (already resized) → float32 (T, H, W) in [0, 1]: clamp((m/127.5 − 1 + 1)/2, 0, 1), ch. 0."""
    m = mask_THWC[..., 0].astype(np.float32) / 127.5 - 1.0
    return np.clip((m + 1.0) / 2.0, 0.0, 1.0)


def fit_reference(image_HWC: np.ndarray, oh: int, ow: int) -> np.ndarray:
    """uint8 (h, w, 3) → float32 (oh, ow, 3) in [−1, 1] on white: min scale, int() sizes, bilinear, centred.
    An image already at the output size is kept as it is."""
    x = torch.from_numpy(np.ascontiguousarray(image_HWC)).permute(2, 0, 1).float() / 255.0 * 2.0 - 1.0
    h, w = x.shape[-2:]
    if (h, w) == (oh, ow):
        return x.permute(1, 2, 0).numpy()
    scale = min(oh / h, ow / w)
    nh, nw = int(h * scale), int(w * scale)
    r = F.interpolate(x[None], size=(nh, nw), mode="bilinear", align_corners=False)[0]
    canvas = torch.ones((3, oh, ow))
    top, left = (oh - nh) // 2, (ow - nw) // 2
    canvas[:, top : top + nh, left : left + nw] = r
    return canvas.permute(1, 2, 0).numpy()


def read_frames(path: Path, plan: ReadPlan) -> np.ndarray:
    """The planned frames of `path`, resized and cropped: uint8 (F, oh, ow, 3)."""
    from uvc_bench.video_io import decode_frames

    video = decode_frames(path, sorted(set(plan.frame_ids)))
    index = {fid: i for i, fid in enumerate(sorted(set(plan.frame_ids)))}
    picked = video[[index[i] for i in plan.frame_ids]]
    return resize_crop(picked, plan.height, plan.width)
