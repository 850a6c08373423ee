"""Probe an input file's headers with PyAV (no decoding): what the stream claims, checked against size limits.

Every way a file can be unusable raises uvc_data.errors.BadInputError with the reason; nothing else escapes.
Rotation lives in per-frame side data (the display matrix), so it is read by the reader from the first frame.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import av

from uvc_data.errors import BadInputError
from uvc_data.remote import filesystem, is_url, media_source


@dataclass(frozen=True)
class VideoInfo:
    """Header facts of the first video stream. Sizes are coded (before rotation), in pixels."""

    path: str
    codec: str
    width: int
    height: int
    sample_aspect: float  # pixel aspect ratio (1.0 for square pixels)
    fps: float  # average rate from the headers (guessed when absent)
    time_base: Fraction
    duration_s: float | None  # stream (or container) duration, None when unknown
    num_frames: int | None  # frame count from the headers, None when unknown
    pix_fmt: str
    file_bytes: int
    audio_streams: int


@dataclass(frozen=True)
class SizeLimits:
    """Source sizes accepted; outside them the input is rejected before decoding."""

    min_side: int = 16
    max_pixels: int = 8192 * 4352


def _check_file(path: str) -> int:
    if is_url(path):
        return _check_object(path)
    if not os.path.exists(path):
        raise BadInputError(f"{path}: no such file: check the input path")
    if not os.path.isfile(path):
        raise BadInputError(f"{path}: not a regular file (a folder, pipe or device): give video files as inputs")
    size = os.path.getsize(path)
    if size == 0:
        raise BadInputError(f"{path}: empty file (0 bytes): re-download or remove it from the inputs")
    return size


def _check_object(url: str) -> int:
    fs, inner = filesystem(url)
    try:
        size = int(fs.size(inner) or 0)
    except FileNotFoundError:
        raise BadInputError(f"{url}: no such object: check the input URL") from None
    if size == 0:
        raise BadInputError(f"{url}: empty object (0 bytes): upload it again or remove it from the inputs")
    return size


def _fraction(value: object) -> Fraction | None:
    if value is None:
        return None
    frac = Fraction(value.numerator, value.denominator)  # type: ignore[attr-defined]
    return frac if frac > 0 else None


def probe(path: str | os.PathLike[str], limits: SizeLimits | None = None) -> VideoInfo:
    """Open `path`, read its headers and return the first video stream's VideoInfo, or raise BadInputError."""
    path = str(path)
    limits = limits or SizeLimits()
    size = _check_file(path)
    try:
        with media_source(path) as src, av.open(src, metadata_errors="ignore") as container:
            streams = [s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
            audio = len(container.streams.audio)
            if not streams:
                what = f"{audio} audio stream(s) and no video" if audio else "no video stream"
                raise BadInputError(f"{path}: {what}: only video files can be split into clips")
            stream = streams[0]
            ctx = stream.codec_context
            width, height = int(ctx.width or 0), int(ctx.height or 0)
            rate = _fraction(stream.average_rate) or _fraction(stream.guessed_rate) or _fraction(stream.base_rate)
            duration = None
            if stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            elif container.duration:
                duration = container.duration / av.time_base
            sar = _fraction(stream.sample_aspect_ratio) or _fraction(ctx.sample_aspect_ratio) or Fraction(1)
            info = VideoInfo(
                path=path,
                codec=ctx.name,
                width=width,
                height=height,
                sample_aspect=float(sar),
                fps=float(rate) if rate else 0.0,
                time_base=Fraction(stream.time_base) if stream.time_base else Fraction(1, 90000),
                duration_s=duration,
                num_frames=int(stream.frames) or None,
                pix_fmt=str(ctx.format.name) if ctx.format else "unknown",
                file_bytes=size,
                audio_streams=audio,
            )
    except BadInputError:
        raise
    except (av.FFmpegError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise BadInputError(f"{path}: not a readable video file: damaged, truncated or not a video "
                            f"({type(exc).__name__}: {exc})") from exc
    check_size(info, limits)
    return info


def check_size(info: VideoInfo, limits: SizeLimits) -> None:
    """Reject sizes outside `limits` (or unknown), naming the limit to change."""
    w, h = info.width, info.height
    if w <= 0 or h <= 0:
        raise BadInputError(f"{info.path}: the video stream has no frame size ({w}x{h}): the file is damaged")
    if min(w, h) < limits.min_side:
        raise BadInputError(f"{info.path}: frames are {w}x{h}, smaller than decode.min_src_side={limits.min_side}: "
                            "too small to make a clip from (lower decode.min_src_side to accept it)")
    if w * h > limits.max_pixels:
        raise BadInputError(f"{info.path}: frames are {w}x{h} = {w * h} pixels, above decode.max_src_pixels="
                            f"{limits.max_pixels} (raise decode.max_src_pixels to accept it)")
