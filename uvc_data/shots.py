"""Shot detection with PySceneDetect, driven frame by frame on frames that are already decoded.

The detectors' public `process_frame(timecode, frame_bgr)` API is fed a small image of each decoded frame, made by
the decoder from the source picture (`uvc_data.video.reader.small_image`), so no second decode and no full-size
colour conversion are involved. By default (`image="luma"`) that image is the Y plane shrunk to `detect_width`
columns, given to PySceneDetect as three equal channels with its luma-only weights (the frame score is the mean
absolute luma change: HSV's value channel of a gray image is its luma); `image="color"` gives it a small BGR picture
and its usual hue + saturation + value score. A cut at frame index p means frame p starts a new shot. Detectors report
a cut some frames after it happened (`lag`); callers must not commit to a clip until the detector has seen `lag`
frames past it.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Literal

import numpy as np

from uvc_data.errors import ConfigError
from uvc_data.imports import require

DETECTOR_DEFAULT_THRESHOLD = {"adaptive": 3.0, "content": 27.0}


@dataclass
class ShotConfig:
    """Shot detection. threshold: None = the detector's default (adaptive 3.0 ratio, content 27.0 score).

    image: what the detector reads — "luma" (the Y plane at detect_width: no colour conversion; scored on brightness
    changes, as luma_only) or "color" (a small BGR picture: hue and saturation changes score too, at the cost of a
    colour conversion per source frame). Both find the same cuts in the real test footage (tests/data/test_shots.py).
    """

    detector: Literal["adaptive", "content"] = "adaptive"
    threshold: float | None = None
    min_scene_frames: int = 15  # source frames between cuts (PySceneDetect's min_scene_len)
    detect_width: int = 256  # frames are shrunk to this width before detection
    min_content_val: float = 15.0  # adaptive only: the content score a cut must also reach
    window_width: int = 2  # adaptive only: frames on each side averaged for the adaptive ratio
    image: Literal["luma", "color"] = "luma"
    luma_only: bool = False  # image="color" only: score brightness changes only (black-and-white footage)

    def validate(self) -> None:
        if self.image not in ("luma", "color"):
            raise ConfigError("shots.image", f"{self.image!r} is not one of luma, color")
        if self.detector not in DETECTOR_DEFAULT_THRESHOLD:
            raise ConfigError("shots.detector", f"{self.detector!r} is not one of {list(DETECTOR_DEFAULT_THRESHOLD)}")
        if self.threshold is not None and self.threshold <= 0:
            raise ConfigError("shots.threshold", f"{self.threshold} must be > 0 (or null for the detector default)")
        if self.min_scene_frames < 1:
            raise ConfigError("shots.min_scene_frames", f"{self.min_scene_frames} must be ≥ 1")
        if self.detect_width < 16:
            raise ConfigError("shots.detect_width", f"{self.detect_width} must be ≥ 16 pixels")
        if self.window_width < 1:
            raise ConfigError("shots.window_width", f"{self.window_width} must be ≥ 1")
        if self.min_content_val < 0:
            raise ConfigError("shots.min_content_val", f"{self.min_content_val} must be ≥ 0")

    @property
    def effective_threshold(self) -> float:
        return DETECTOR_DEFAULT_THRESHOLD[self.detector] if self.threshold is None else float(self.threshold)

    @property
    def scores_luma_only(self) -> bool:
        return self.image == "luma" or self.luma_only

    @property
    def image_format(self) -> Literal["gray", "bgr24"]:
        """The pixel format of the detection image (`uvc_data.video.reader.small_image`)."""
        return "gray" if self.image == "luma" else "bgr24"


def make_detector(cfg: ShotConfig):
    """A fresh PySceneDetect detector (one per input: detectors keep state)."""
    detectors = require("scenedetect.detectors", "scenedetect-headless", "shot detection")
    if cfg.detector == "adaptive":
        return detectors.AdaptiveDetector(
            adaptive_threshold=cfg.effective_threshold,
            min_scene_len=cfg.min_scene_frames,
            window_width=cfg.window_width,
            min_content_val=cfg.min_content_val,
            luma_only=cfg.scores_luma_only,
        )
    return detectors.ContentDetector(
        threshold=cfg.effective_threshold, min_scene_len=cfg.min_scene_frames, luma_only=cfg.scores_luma_only
    )


def detector_lag(detector) -> int:
    """Frames between the frame a detector is fed and the oldest cut position it can still report.

    AdaptiveDetector reports a cut `window_width` frames late; ContentDetector's merge filter at most
    `min_scene_len` frames late (its `event_buffer_length`). One extra frame covers the score being a difference of
    two frames.
    """
    return int(detector.event_buffer_length) + 1


def detection_frame(rgb: np.ndarray, detect_width: int) -> np.ndarray:
    """(H, W, 3) RGB → (h, detect_width, 3) BGR, area-averaged (no upscaling of narrower frames): an image="color"
    detection image made from frames already converted (e.g. decoded clips)."""
    import cv2

    h, w = rgb.shape[:2]
    if w > detect_width:
        new_h = max(1, int(round(h * detect_width / w)))
        rgb = cv2.resize(rgb, (detect_width, new_h), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb[..., ::-1])


def as_bgr(image: np.ndarray) -> np.ndarray:
    """A detection image as PySceneDetect takes it: (h, w) luma → (h, w, 3) with three equal channels."""
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image)


class ShotStream:
    """Feed detection images in order with `push`; get back the cut positions (frame indices) the detector reports."""

    def __init__(self, cfg: ShotConfig, fps: float):
        scenedetect = require("scenedetect", "scenedetect-headless", "shot detection")
        self.cfg = cfg
        self.detector = make_detector(cfg)
        self.lag = detector_lag(self.detector)
        self._fps = Fraction(fps if fps > 0 else 30.0).limit_denominator(1001)
        self._timecode = scenedetect.FrameTimecode
        self.frames_seen = 0

    def push(self, image: np.ndarray) -> list[int]:
        """Process the next frame's detection image ((h, w) luma or (h, w, 3) BGR, as `cfg.image` says; index =
        number of frames pushed before). Returns cut positions, ascending."""
        tc = self._timecode(self.frames_seen, fps=self._fps)
        self.frames_seen += 1
        cuts = self.detector.process_frame(tc, as_bgr(image))
        return sorted(int(c.frame_num) for c in cuts if int(c.frame_num) > 0)

    def finish(self) -> list[int]:
        """Cuts the detector only reports at the end of the stream."""
        if self.frames_seen == 0:
            return []
        tc = self._timecode(self.frames_seen - 1, fps=self._fps)
        return sorted(int(c.frame_num) for c in self.detector.post_process(tc) if int(c.frame_num) > 0)


def detect_cuts(images: Iterable[np.ndarray], cfg: ShotConfig, fps: float) -> list[int]:
    """All cut positions in a sequence of detection images (a convenience over ShotStream)."""
    stream = ShotStream(cfg, fps)
    cuts: list[int] = []
    for image in images:
        cuts.extend(stream.push(image))
    cuts.extend(stream.finish())
    return sorted(set(cuts))
