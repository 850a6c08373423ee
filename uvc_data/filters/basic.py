"""Cheap clip filters on metadata and pixels: duration, source resolution, blur, static clips."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from uvc_data.errors import ConfigError
from uvc_data.filters.base import FILTERS, Filter
from uvc_data.sample import Sample

REFERENCE_HEIGHT = 480


def sample_indices(num_frames: int, count: int) -> np.ndarray:
    """`count` frame indices spread evenly over the clip (all frames when it has fewer)."""
    return np.unique(np.linspace(0, num_frames - 1, min(count, num_frames)).round().astype(int))


def gray_at(frame: np.ndarray, height: int) -> np.ndarray:
    """RGB (H, W, 3) uint8 → gray resized to `height` rows (aspect kept)."""
    import cv2

    g = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    h, w = g.shape
    if h != height:
        g = cv2.resize(g, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA)
    return g


@dataclass
class DurationConfig:
    min_seconds: float = 1.0
    max_seconds: float = 0.0  # 0 = no upper limit
    min_frames: int = 1

    def validate(self) -> None:
        if self.min_seconds < 0 or self.max_seconds < 0:
            raise ConfigError("min_seconds", "durations must be ≥ 0")
        if self.max_seconds and self.max_seconds < self.min_seconds:
            raise ConfigError("max_seconds", f"{self.max_seconds} < min_seconds {self.min_seconds}")


@FILTERS.register("duration", DurationConfig)
class DurationFilter(Filter):
    name = "duration"

    def check(self, sample: Sample) -> str | None:
        c = self.config
        seconds = sample.num_frames / sample.fps if sample.fps > 0 else 0.0
        sample.signals["duration_s"] = seconds
        if sample.num_frames < c.min_frames:
            return f"{sample.num_frames} frames < min_frames {c.min_frames}"
        if seconds < c.min_seconds:
            return f"{seconds:.2f} s < min_seconds {c.min_seconds}"
        if c.max_seconds and seconds > c.max_seconds:
            return f"{seconds:.2f} s > max_seconds {c.max_seconds}"
        return None


@dataclass
class ResolutionConfig:
    min_width: int = 0  # of the source, as displayed (provenance)
    min_height: int = 0
    min_short_side: int = 480
    min_aspect: float = 0.0  # width / height; 0 = no limit
    max_aspect: float = 0.0

    def validate(self) -> None:
        if min(self.min_width, self.min_height, self.min_short_side) < 0:
            raise ConfigError("min_short_side", "sizes must be ≥ 0")
        if self.max_aspect and self.max_aspect < self.min_aspect:
            raise ConfigError("max_aspect", f"{self.max_aspect} < min_aspect {self.min_aspect}")


@FILTERS.register("resolution", ResolutionConfig)
class ResolutionFilter(Filter):
    """Judges the SOURCE resolution (provenance): frames here are already at the working size."""

    name = "resolution"

    def check(self, sample: Sample) -> str | None:
        c = self.config
        w, h = sample.provenance.src_width, sample.provenance.src_height
        if w < c.min_width or h < c.min_height:
            return f"source {w}x{h} below {c.min_width}x{c.min_height}"
        if min(w, h) < c.min_short_side:
            return f"source short side {min(w, h)} < min_short_side {c.min_short_side}"
        aspect = w / h if h else 0.0
        if (c.min_aspect and aspect < c.min_aspect) or (c.max_aspect and aspect > c.max_aspect):
            return f"source aspect {aspect:.3f} outside [{c.min_aspect}, {c.max_aspect or 'inf'}]"
        return None


def laplacian_variance(gray: np.ndarray) -> float:
    """Variance of the Laplacian (Pech-Pacheco et al., ICPR 2000): low = blurry."""
    import cv2

    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


@dataclass
class BlurConfig:
    min_sharpness: float = 15.0  # median variance of the Laplacian over sampled frames, measured at 480 rows
    frames: int = 8

    def validate(self) -> None:
        if self.frames < 1:
            raise ConfigError("frames", "must be ≥ 1")


@FILTERS.register("blur", BlurConfig)
class BlurFilter(Filter):
    name = "blur"

    def check(self, sample: Sample) -> str | None:
        idx = sample_indices(sample.num_frames, self.config.frames)
        sharp = float(np.median([laplacian_variance(gray_at(sample.frames[i], REFERENCE_HEIGHT)) for i in idx]))
        sample.signals["sharpness"] = sharp
        if sharp < self.config.min_sharpness:
            return f"sharpness (Laplacian variance) {sharp:.1f} < min_sharpness {self.config.min_sharpness}"
        return None


def frame_difference(frames: np.ndarray, height: int = 120, step: int = 4) -> float:
    """Mean absolute gray difference (0–255) between frames `step` apart, at `height` rows."""
    grays = [gray_at(frames[i], height).astype(np.float32) for i in range(0, len(frames), step)]
    if len(grays) < 2:
        grays = [gray_at(frames[0], height).astype(np.float32), gray_at(frames[-1], height).astype(np.float32)]
    return float(np.mean([np.abs(a - b).mean() for a, b in zip(grays[:-1], grays[1:])]))


@dataclass
class StaticConfig:
    min_difference: float = 1.0  # mean |Δ gray| (0–255) between frames `step` apart
    step: int = 4

    def validate(self) -> None:
        if self.step < 1:
            raise ConfigError("step", "must be ≥ 1")


@FILTERS.register("static", StaticConfig)
class StaticFilter(Filter):
    name = "static"

    def check(self, sample: Sample) -> str | None:
        diff = frame_difference(sample.frames, step=self.config.step)
        sample.signals["frame_difference"] = diff
        if diff < self.config.min_difference:
            return f"static clip: frame difference {diff:.2f} < min_difference {self.config.min_difference}"
        return None
