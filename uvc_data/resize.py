"""Resize a Sample (clip and every condition) to another clip size, consistently.

Space: scale to cover the target, then centre-crop (aspect kept, as the decoder's fit="crop"); INTER_AREA for images,
nearest for masks (they stay 0/255). Time: `num_frames` evenly spaced frames of the clip (the same indices for the clip
and every control/mask video, so conditions stay aligned); fps scales with the subsampling. Frames are never invented.
"""
from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from uvc_data.errors import BadInputError
from uvc_data.sample import INPAINT_MASK, OUTPAINT_MASK, REF_IMAGES, Sample


def _cover_crop(img: np.ndarray, height: int, width: int, interpolation: int) -> np.ndarray:
    h, w = img.shape[:2]
    scale = max(height / h, width / w)
    nh, nw = max(height, round(h * scale)), max(width, round(w * scale))
    out = cv2.resize(img, (nw, nh), interpolation=interpolation)
    y, x = (nh - height) // 2, (nw - width) // 2
    return out[y : y + height, x : x + width]


def frame_indices(total: int, num_frames: int) -> np.ndarray:
    """`num_frames` evenly spaced indices into `total` frames (all of them, in order, when equal)."""
    if num_frames > total:
        raise BadInputError(f"cannot make {num_frames} frames from a clip of {total}: lower the requested frame count")
    return np.linspace(0, total - 1, num_frames).round().astype(int)


def resize_sample(sample: Sample, num_frames: int, height: int, width: int) -> Sample:
    """A copy of `sample` at (num_frames, height, width); the same object when it already has that size."""
    if sample.frames is None:
        raise BadInputError(f"sample {sample.key}: no frames to resize")
    t, h, w = sample.frames.shape[:3]
    if (t, h, w) == (num_frames, height, width):
        return sample
    idx = frame_indices(t, num_frames)
    area = cv2.INTER_AREA

    def video(v: np.ndarray, interp: int) -> np.ndarray:
        return np.stack([_cover_crop(f, height, width, interp) for f in np.asarray(v)[idx]])

    conditions = {}
    for name, value in sample.conditions.items():
        if name == REF_IMAGES:
            conditions[name] = [_cover_crop(np.asarray(r), height, width, area) for r in value]
        elif name in (OUTPAINT_MASK, INPAINT_MASK):
            conditions[name] = video(value, cv2.INTER_NEAREST)
        else:
            conditions[name] = video(value, area)
    step = (t - 1) / max(num_frames - 1, 1) if num_frames > 1 else 1.0
    return replace(sample, frames=video(sample.frames, area), conditions=conditions,
                   fps=sample.fps / step if step > 0 else sample.fps)


def read_keys(path: str) -> set[str]:
    """Keys listed one per line (e.g. a UVCBench suite's holdout.txt); blank lines and # comments ignored."""
    from pathlib import Path

    p = Path(path)
    if not p.is_file():
        raise BadInputError(f"key list {path} not found")
    return {line.strip() for line in p.read_text().splitlines() if line.strip() and not line.startswith("#")}
