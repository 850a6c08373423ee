"""The Video Condition Unit V = [T; F; M] (method.md, "Video Condition Unit"), shared by data, trainer and bench.

Pixel conventions (VACE): frames F in [-1, 1]; the area to generate in a source video is neutral gray (0 in [-1, 1]);
masks M are 1 = generate, 0 = keep; reference images are fitted onto a white canvas (1.0) at the working size and kept
apart from F (as VACE's `src_ref_images`); `context()` lays them out as method.md's table does (r1..rl then F).
Shapes: frames_THWC float32, masks_THW float32, refs: list of HWC float32.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from uvc_data.errors import BadInputError
from uvc_data.tasks import Family, TaskDef, get_task


@dataclass
class VCU:
    prompt: str
    frames: np.ndarray  # (T, H, W, 3) float32 in [-1, 1]
    masks: np.ndarray  # (T, H, W) float32 in {0, 1}; 1 = generate
    refs: list[np.ndarray] = field(default_factory=list)  # each (H, W, 3) float32 in [-1, 1], white canvas
    task: str = "t2v"

    def __post_init__(self) -> None:
        if self.frames.ndim != 4 or self.frames.shape[-1] != 3:
            raise BadInputError(f"VCU frames must be (T, H, W, 3), got {self.frames.shape}")
        if self.masks.shape != self.frames.shape[:3]:
            raise BadInputError(f"VCU masks {self.masks.shape} do not match frames {self.frames.shape[:3]}")
        for i, r in enumerate(self.refs):
            if r.shape != self.frames.shape[1:]:
                raise BadInputError(f"VCU reference image {i} is {r.shape}, expected {self.frames.shape[1:]}")

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    def context(self) -> tuple[np.ndarray, np.ndarray]:
        """(F, M) with reference images prepended in time: F (l+T, H, W, 3), M (l+T, H, W), masks 0 on references."""
        if not self.refs:
            return self.frames, self.masks
        r = np.stack(self.refs).astype(np.float32)
        m = np.zeros(r.shape[:3], np.float32)
        return np.concatenate([r, self.frames]), np.concatenate([m, self.masks])

    def inactive_reactive(self) -> tuple[np.ndarray, np.ndarray]:
        """VACE's split of F by M: inactive = F·(1−M) (kept), reactive = F·M (to be regenerated)."""
        m = self.masks[..., None]
        return self.frames * (1.0 - m), self.frames * m


def to_unit(video_uint8: np.ndarray) -> np.ndarray:
    """uint8 [0, 255] → float32 [-1, 1]."""
    return video_uint8.astype(np.float32) / 127.5 - 1.0


def to_uint8(video_unit: np.ndarray) -> np.ndarray:
    """float32 [-1, 1] → uint8 [0, 255] (rounded, clipped)."""
    return np.clip(np.round((video_unit + 1.0) * 127.5), 0, 255).astype(np.uint8)


def fit_on_white(image_uint8: np.ndarray, height: int, width: int) -> np.ndarray:
    """Fit an image (aspect kept, centred) onto a white canvas of the working size; returns uint8 (H, W, 3)."""
    import cv2

    h, w = image_uint8.shape[:2]
    scale = min(height / h, width / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    resized = cv2.resize(image_uint8, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    canvas = np.full((height, width, 3), 255, np.uint8)
    y, x = (height - nh) // 2, (width - nw) // 2
    canvas[y : y + nh, x : x + nw] = resized
    return canvas


def build_vcu(
    task: str | TaskDef,
    prompt: str,
    clip: np.ndarray | None,
    conditions: Mapping[str, object],
    num_frames: int | None = None,
    size: tuple[int, int] | None = None,
) -> VCU:
    """Build the VCU of `task` from a clip (T, H, W, 3) uint8 and its conditions (Sample.conditions).

    conditions: control videos (T, H, W, 3) uint8 under their CONTROL_CONDITIONS key; "outpaint_mask" and
    "inpaint_mask" (T, H, W) uint8 with 255 = generate; "ref_images": list of (H, W, 3) uint8 already on white.
    For T2V / R2V with no clip, give num_frames and size=(H, W).
    """
    t = get_task(task) if isinstance(task, str) else task
    missing = [k for k in t.needs if k not in conditions]
    if missing:
        raise BadInputError(f"task {t.name!r} needs conditions {missing}; the sample has {sorted(conditions)}")
    if clip is not None:
        n, h, w = clip.shape[:3]
    elif t.control is not None:
        n, h, w = np.asarray(conditions[t.control]).shape[:3]
    elif num_frames is not None and size is not None:
        n, (h, w) = num_frames, size
    else:
        raise BadInputError(f"task {t.name!r}: give the clip, or num_frames and size")

    refs: list[np.ndarray] = []
    if t.references:
        refs = [to_unit(np.asarray(r)) for r in conditions["ref_images"]]  # type: ignore[union-attr]
        if not refs:
            raise BadInputError(f"task {t.name!r} needs at least one reference image")

    if t.control is not None:
        frames = to_unit(np.asarray(conditions[t.control]))
        masks = np.ones((n, h, w), np.float32)
    elif t.family in (Family.T2V, Family.R2V):
        frames = np.zeros((n, h, w, 3), np.float32)
        masks = np.ones((n, h, w), np.float32)
    else:
        if clip is None:
            raise BadInputError(f"task {t.name!r} needs the source clip")
        frames = to_unit(clip)
        masks = np.ones((n, h, w), np.float32)

    if t.keep == "first_frame":
        if clip is None:
            raise BadInputError(f"task {t.name!r} needs the source clip for its first frame")
        frames = frames.copy()
        frames[0] = to_unit(clip[0])
        if t.control is None:
            frames[1:] = 0.0  # extension: first frame then gray
        masks[0] = 0.0
    elif t.keep in ("inside", "outside_mask"):
        key = "outpaint_mask" if t.keep == "inside" else "inpaint_mask"
        masks = (np.asarray(conditions[key]) > 127).astype(np.float32)
        if masks.ndim == 4:
            masks = masks[..., 0]
        frames = frames * (1.0 - masks[..., None])  # gray (0) where generated

    return VCU(prompt=prompt, frames=frames.astype(np.float32), masks=masks.astype(np.float32), refs=refs, task=t.name)


def build_vcus(tasks: Sequence[str], prompt: str, clip: np.ndarray, conditions: Mapping[str, object]) -> dict[str, VCU]:
    return {name: build_vcu(name, prompt, clip, conditions) for name in tasks}
