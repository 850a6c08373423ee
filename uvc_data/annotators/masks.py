"""Mask videos (T, H, W) uint8, 255 = generate (VACE mask video: white = generate, black = keep).

Outpainting (geometric, VACE: expand ratio 0.25, left + right by default): the clip at the working size is the
*expanded* frame; the source frame that is kept is its centre, of width W / (1 + r·[left] + r·[right]) (and likewise
in height), and each chosen side adds a border of r × the kept size, which is generated. E.g. 832×480, r = 0.25,
left+right: kept centre 555 px wide, borders of 139 and 138 px.
Inpainting: the subject's region (segment.py) — its dilated mask or its per-frame box — is generated.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from uvc_data.annotators.base import Annotator, AnnotatorConfig, NothingToAnnotate
from uvc_data.annotators.registry import ANNOTATORS
from uvc_data.annotators.segment import SegmentConfig, Segmenter
from uvc_data.errors import ConfigError
from uvc_data.sample import INPAINT_MASK, OUTPAINT_MASK, Sample

DIRECTIONS = ("left", "right", "up", "down")
REFERENCE_HEIGHT = 480


def outpaint_borders(height: int, width: int, expand_ratio: float, directions: list[str]) -> tuple[int, int, int, int]:
    """Border sizes (top, bottom, left, right) in pixels of an H×W frame that is the kept centre expanded by
    `expand_ratio` × its own size on each chosen side."""
    nx = ("left" in directions) + ("right" in directions)
    ny = ("up" in directions) + ("down" in directions)
    kept_w = round(width / (1 + expand_ratio * nx))
    kept_h = round(height / (1 + expand_ratio * ny))
    ex, ey = width - kept_w, height - kept_h  # total generated width / height
    left = (ex + 1) // 2 if "left" in directions and "right" in directions else (ex if "left" in directions else 0)
    right = ex - left if "right" in directions else 0
    up = (ey + 1) // 2 if "up" in directions and "down" in directions else (ey if "up" in directions else 0)
    down = ey - up if "down" in directions else 0
    return up, down, left, right


def outpaint_mask(num_frames: int, height: int, width: int, expand_ratio: float, directions: list[str]) -> np.ndarray:
    """(T, H, W) uint8: 255 on the expanded borders (generate), 0 on the kept centre."""
    up, down, left, right = outpaint_borders(height, width, expand_ratio, directions)
    m = np.full((height, width), 255, np.uint8)
    m[up : height - down, left : width - right] = 0
    return np.broadcast_to(m, (num_frames, height, width)).copy()


@dataclass
class OutpaintConfig(AnnotatorConfig):
    backend: str = "geometric"
    expand_ratio: float = 0.25
    directions: list[str] = field(default_factory=lambda: ["left", "right"])

    backends: ClassVar[tuple[str, ...]] = ("geometric",)

    def validate(self) -> None:
        super().validate()
        if not 0 < self.expand_ratio <= 2:
            raise ConfigError("expand_ratio", f"{self.expand_ratio} must be in (0, 2] (VACE uses 0.25)")
        if not self.directions or any(d not in DIRECTIONS for d in self.directions):
            raise ConfigError("directions", f"{self.directions} must be a non-empty subset of {list(DIRECTIONS)}")


@ANNOTATORS.register("outpaint", OutpaintConfig)
class OutpaintAnnotator(Annotator):
    name = "outpaint"
    condition = OUTPAINT_MASK

    def __init__(self, config: OutpaintConfig) -> None:
        super().__init__(config)
        self.config: OutpaintConfig = config

    def load(self) -> Any:
        return outpaint_mask

    def annotate(self, sample: Sample) -> np.ndarray:
        t, (h, w) = sample.num_frames, sample.size
        m = self.model(t, h, w, self.config.expand_ratio, list(self.config.directions))
        sample.signals["outpaint_area"] = float(m[0].mean() / 255.0)
        return m


def box_of(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) bounding box of a bool (H, W) mask, or None when empty."""
    ys, xs = np.nonzero(mask)
    if not len(ys):
        return None
    return int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1


def inpaint_masks(subject: np.ndarray, mode: str, dilate_px: int) -> np.ndarray:
    """Subject masks (T, H, W) bool → (T, H, W) uint8 mask video (255 = generate): the dilated mask or its box."""
    import cv2

    out = np.zeros(subject.shape, np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate_px + 1,) * 2) if dilate_px > 0 else None
    for t, m in enumerate(subject):
        u8 = m.astype(np.uint8) * 255
        if kernel is not None:
            u8 = cv2.dilate(u8, kernel)
        if mode == "bbox":
            b = box_of(u8 > 0)
            u8 = np.zeros_like(u8)
            if b is not None:
                u8[b[0] : b[1], b[2] : b[3]] = 255
        out[t] = u8
    return out


@dataclass
class InpaintConfig(AnnotatorConfig):
    backend: str = "segment"
    mode: Literal["mask", "bbox"] = "mask"
    dilate: int = 8  # pixels at a 480-pixel frame height
    segment: SegmentConfig = field(default_factory=SegmentConfig)

    backends: ClassVar[tuple[str, ...]] = ("segment",)

    def validate(self) -> None:
        super().validate()
        if self.dilate < 0:
            raise ConfigError("dilate", "must be ≥ 0")


@ANNOTATORS.register("inpaint", InpaintConfig)
class InpaintAnnotator(Annotator):
    name = "inpaint"
    condition = INPAINT_MASK

    def __init__(self, config: InpaintConfig) -> None:
        super().__init__(config)
        self.config: InpaintConfig = config

    def load(self) -> Segmenter:
        return Segmenter(self.config.segment)

    def annotate(self, sample: Sample) -> np.ndarray:
        found = self.model.for_sample(sample)
        if found is None:
            sample.signals["inpaint_area"] = 0.0
            raise NothingToAnnotate(f"no subject found by {list(self.config.segment.segmenters)}")
        subject, source = found
        self.stats[f"segmenter_{source}"] += 1
        px = round(self.config.dilate * sample.size[0] / REFERENCE_HEIGHT)
        m = inpaint_masks(subject, self.config.mode, px)
        sample.signals["inpaint_area"] = float(m.mean() / 255.0)
        return m
