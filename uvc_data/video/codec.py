"""Encode and decode whole clips in memory with PyAV (H.264 MP4) and images as PNG.

Clips here are short (tens of frames at the working size); long inputs are never decoded whole — see
uvc_data.video.reader for the streaming decoder.
"""
from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from uvc_data.errors import BadInputError


def _fps_fraction(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


def encode_video(
    frames: np.ndarray,
    fps: float,
    crf: int = 18,
    preset: str = "veryfast",
    threads: int = 0,
) -> bytes:
    """(T, H, W, 3) or (T, H, W) uint8 → H.264 MP4 bytes (yuv420p; H and W must be even).

    Masks (T, H, W) are written as gray frames; use crf=0 for them so 0/255 survive exactly.
    Reproducible: the same frames, settings and a fixed `threads` (> 0) give the same bytes.
    """
    if frames.dtype != np.uint8:
        raise BadInputError(f"encode_video wants uint8 frames, got {frames.dtype}")
    if frames.ndim == 3:
        frames = np.repeat(frames[..., None], 3, axis=-1)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise BadInputError(f"encode_video wants (T, H, W, 3) frames, got {frames.shape}")
    t, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise BadInputError(f"H.264 (yuv420p) needs even sizes, got {w}x{h}: choose an even working size")
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=_fps_fraction(fps))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        # mbtree=0: x264's macroblock-tree rate control makes the bytes differ from one encode of the same frames to
        # the next; without it (and with a fixed thread count) encoding is reproducible, which resumable builds need.
        stream.options = {"crf": str(crf), "preset": preset, "x264-params": "mbtree=0"}
        stream.thread_count = threads
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


def decode_video(src: bytes | str | Path) -> tuple[np.ndarray, float]:
    """A whole (short) video → ((T, H, W, 3) uint8 RGB, fps). Raises BadInputError when it has no video frames."""
    handle = io.BytesIO(src) if isinstance(src, (bytes, bytearray)) else str(src)
    try:
        with av.open(handle) as container:
            if not container.streams.video:
                raise BadInputError("no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            fps = float(stream.average_rate or stream.guessed_rate or 0) or 0.0
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    except av.FFmpegError as exc:
        raise BadInputError(f"cannot decode video: {exc}") from exc
    if not frames:
        raise BadInputError("the video has no decodable frames")
    return np.stack(frames), fps


def decode_mask(src: bytes | str | Path) -> np.ndarray:
    """A mask video → (T, H, W) uint8 in {0, 255} (thresholded at 128)."""
    frames, _ = decode_video(src)
    return np.where(frames[..., 0] >= 128, 255, 0).astype(np.uint8)


def encode_png(image: np.ndarray) -> bytes:
    import cv2

    ok, data = cv2.imencode(".png", image[..., ::-1] if image.ndim == 3 else image)
    if not ok:
        raise BadInputError(f"cannot encode image of shape {image.shape} as PNG")
    return data.tobytes()


def decode_png(data: bytes) -> np.ndarray:
    import cv2

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise BadInputError("not a decodable image")
    return img[..., ::-1].copy()
