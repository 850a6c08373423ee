"""Video files as the bench reads them (PyAV): a probe of the frame timestamps without decoding, the decode of
chosen frames only (bounded memory on long sources), and file digests.

Timestamps are [start, end] per frame in presentation order, in seconds from the first frame (start = pts · time
base; end = start + the packet's duration, else the next frame's start, else 1/fps) — what decord's
`get_frame_timestamp`, which the official inference uses, reports for constant-rate MP4s.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from uvc_data.errors import BadInputError


@dataclass(frozen=True)
class VideoProbe:
    num_frames: int
    height: int
    width: int
    fps: float  # the stream's average rate; 0.0 when the file does not say
    timestamps: np.ndarray  # (N, 2) float32 [start, end] in s


def probe_video(path: str | Path) -> VideoProbe:
    """Frame count, size, fps and per-frame timestamps from the packets (no decoding)."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise BadInputError(f"{path}: no video stream")
            stream = container.streams.video[0]
            tb = float(stream.time_base)
            fps = float(stream.average_rate or stream.guessed_rate or 0) or 0.0
            starts, durations = [], []
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                starts.append(packet.pts * tb)
                durations.append((packet.duration or 0) * tb)
            h, w = stream.codec_context.height, stream.codec_context.width
    except av.FFmpegError as exc:
        raise BadInputError(f"cannot read video {path}: {exc}") from exc
    if not starts:
        raise BadInputError(f"{path}: the video has no frames")
    order = np.argsort(starts, kind="stable")
    s = np.asarray(starts)[order]
    d = np.asarray(durations)[order]
    s = s - s[0]
    nxt = np.append(s[1:], np.nan)
    fallback = 1.0 / fps if fps > 0 else 0.0
    end = np.where(d > 0, s + d, np.where(np.isfinite(nxt), nxt, s + fallback))
    return VideoProbe(len(s), int(h), int(w), fps, np.stack([s, end], axis=1).astype(np.float32))


def decode_frames(path: str | Path, frame_ids: list[int]) -> np.ndarray:
    """uint8 (len(frame_ids), H, W, 3) RGB of the frames at these presentation-order indices (sorted, unique);
    frames not asked for are decoded and dropped at once."""
    wanted = set(frame_ids)
    out: dict[int, np.ndarray] = {}
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for i, frame in enumerate(container.decode(stream)):
                if i in wanted:
                    out[i] = frame.to_ndarray(format="rgb24")
                if len(out) == len(wanted):
                    break
    except (av.FFmpegError, IndexError) as exc:
        raise BadInputError(f"cannot decode video {path}: {exc}") from exc
    missing = sorted(wanted - set(out))
    if missing:
        raise BadInputError(f"{path}: frames {missing[:5]} could not be decoded (the file has {len(out)} of them)")
    return np.stack([out[i] for i in sorted(wanted)])


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
