"""Gallery thumbnails: a video (or an image) → a small looping animated WebP, deterministic bytes.

A WebP is an image to the browser: `<img loading="lazy">` loads it only when scrolled into view, it loops without a
player or script, works from file:// and decodes in every current browser (an H.264 MP4 does not decode in every
Chromium build). Frames are sampled evenly over the whole clip and resized to a fixed width.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from uvc_data.errors import BadInputError, ConfigError


@dataclass(frozen=True)
class ThumbConfig:
    """width: thumbnail width in pixels (height keeps the aspect ratio). frames: at most this many frames, sampled
    evenly over the clip. fps: playback rate of the thumbnail. quality: WebP quality (0–100)."""

    width: int = 192
    frames: int = 24
    fps: float = 8.0
    quality: int = 70

    def validate(self) -> None:
        if not 16 <= self.width <= 1024:
            raise ConfigError("gallery.width", f"{self.width} is outside 16..1024 pixels")
        if self.frames < 1:
            raise ConfigError("gallery.frames", f"{self.frames} must be at least 1")
        if not 0 < self.fps <= 60:
            raise ConfigError("gallery.fps", f"{self.fps} must be in (0, 60]")
        if not 0 <= self.quality <= 100:
            raise ConfigError("gallery.quality", f"{self.quality} is outside 0..100")


@dataclass(frozen=True)
class Thumb:
    data: bytes  # WebP
    width: int
    height: int
    frames: int


def sample_indices(n: int, k: int) -> list[int]:
    """k (or n, if fewer) frame indices spread evenly over [0, n), first and last included."""
    if n <= k:
        return list(range(n))
    if k == 1:
        return [0]
    return [round(i * (n - 1) / (k - 1)) for i in range(k)]


def _resize(frames_thwc: np.ndarray, width: int) -> list:
    from PIL import Image

    h, w = frames_thwc.shape[1:3]
    height = max(2, round(h * width / w))
    return [Image.fromarray(f).resize((width, height), Image.Resampling.BILINEAR) for f in frames_thwc]


def encode_webp(frames_thwc: np.ndarray, cfg: ThumbConfig) -> Thumb:
    """(T, H, W, 3) uint8 → an animated (looping) WebP of at most cfg.frames frames, cfg.width wide."""
    if frames_thwc.ndim == 3:  # a mask: (T, H, W)
        frames_thwc = np.repeat(frames_thwc[..., None], 3, axis=-1)
    if frames_thwc.ndim != 4 or frames_thwc.shape[-1] != 3 or len(frames_thwc) == 0:
        raise BadInputError(f"expected frames of shape (T, H, W, 3), got {frames_thwc.shape}")
    picked = frames_thwc[sample_indices(len(frames_thwc), cfg.frames)]
    images = _resize(np.ascontiguousarray(picked, dtype=np.uint8), cfg.width)
    buf = io.BytesIO()
    images[0].save(buf, "WEBP", save_all=True, append_images=images[1:], duration=round(1000 / cfg.fps), loop=0,
                   quality=cfg.quality, method=4)
    return Thumb(buf.getvalue(), images[0].width, images[0].height, len(images))


def video_thumb(path: Path, cfg: ThumbConfig) -> Thumb:
    from uvc_data.video.codec import decode_video

    frames, _ = decode_video(path)
    return encode_webp(frames, cfg)


def image_thumb(path: Path, cfg: ThumbConfig) -> Thumb:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise BadInputError(f"cannot read image {path}: {exc}") from exc
    return encode_webp(rgb[None], cfg)
