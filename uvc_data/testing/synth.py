"""Generate test videos with PyAV: visually distinct shots (moving textures) separated by HARD CUTS at known frames.

Each shot is a smooth random texture in its own colour palette, panning at its own speed, with a bright disc moving
across it — content a shot detector sees as continuous motion inside a shot and as a large jump at each cut.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Sequence

import av
import numpy as np


@dataclass(frozen=True)
class SynthVideo:
    """What was written: the cut frames (index of the first frame of each shot after the first) and timestamps."""

    path: str
    width: int
    height: int
    fps: float
    shots: tuple[int, ...]
    cuts: tuple[int, ...]  # frame indices where a new shot starts
    times_s: tuple[float, ...]  # presentation time of every frame (seconds from the first)
    rotation: int

    @property
    def num_frames(self) -> int:
        return sum(self.shots)


def shot_texture(height: int, width: int, seed: int) -> np.ndarray:
    """A smooth colour texture (height, width, 3) uint8: low-frequency noise in a per-seed palette, plus stripes.

    Built at ≤ 640 px wide and upscaled, so a 4K texture costs about what a small one does and looks the same.
    """
    import cv2

    rng = np.random.default_rng(seed)
    small_w = min(width, 640)
    small_h = max(2, int(round(height * small_w / width)))
    cells = rng.random((max(2, small_h // 24 + 2), max(2, small_w // 24 + 2), 3)).astype(np.float32)
    tex = cv2.resize(cells, (small_w, small_h), interpolation=cv2.INTER_CUBIC)  # (h, w, 3) float
    base = rng.uniform(0, 255, size=3)
    spread = rng.uniform(60, 140, size=3)
    yy, xx = np.mgrid[0:small_h, 0:small_w].astype(np.float32)
    stripes = 30 * np.sin(xx * rng.uniform(0.05, 0.2) + yy * rng.uniform(0.05, 0.2))  # edges and fine detail
    rgb = np.clip(base + (tex - 0.5) * 2 * spread + stripes[..., None], 0, 255).astype(np.uint8)
    if (small_w, small_h) == (width, height):
        return rgb
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_LINEAR)


def _shot_frames(width: int, height: int, n: int, seed: int, margin: int):
    """Yield n frames (height, width, 3) panning over one texture, with a moving disc."""
    rng = np.random.default_rng(seed + 1000)
    tex = shot_texture(height + margin, width + margin, seed)
    vx, vy = rng.uniform(-1, 1, size=2)
    steps = max(n - 1, 1)
    disc_r = max(1, min(width, height) // 10)
    disc_colour = np.array(255 - tex[margin // 2, margin // 2], dtype=np.uint8)
    y0, x0 = rng.uniform(0.2, 0.8, size=2)
    y1, x1 = rng.uniform(0.2, 0.8, size=2)
    for i in range(n):
        a = i / steps
        ox = int(round((0.5 + 0.5 * vx * (2 * a - 1)) * margin))
        oy = int(round((0.5 + 0.5 * vy * (2 * a - 1)) * margin))
        frame = np.ascontiguousarray(tex[oy:oy + height, ox:ox + width])
        cy, cx = int((y0 + (y1 - y0) * a) * height), int((x0 + (x1 - x0) * a) * width)
        ys, xs = slice(max(0, cy - disc_r), cy + disc_r), slice(max(0, cx - disc_r), cx + disc_r)
        frame[ys, xs] = disc_colour
        yield frame


def vfr_times(num_frames: int, fps: float, seed: int = 0) -> list[float]:
    """Irregular presentation times with mean rate ≈ fps: gaps alternate between 0.5 and 1.5 frame periods, jittered."""
    rng = np.random.default_rng(seed)
    gaps = np.where(np.arange(num_frames) % 2 == 0, 0.5, 1.5) * rng.uniform(0.8, 1.2, size=num_frames)
    times = np.concatenate([[0.0], np.cumsum(gaps[:-1])]) / fps
    return [float(t) for t in times]


def make_video(
    path: str | Path,
    width: int,
    height: int,
    fps: float,
    shots: Sequence[int],
    codec: str = "libx264",
    rotation: int | None = None,
    vfr: bool = False,
    seed: int = 0,
    preset: str = "ultrafast",
    crf: int = 23,
    faststart: bool = False,
    threads: int = 0,
    pix_fmt: str = "yuv420p",
) -> SynthVideo:
    """Write a video of len(shots) shots with n_i frames each; cuts at the cumulative frame counts.

    rotation: display rotation in degrees counter-clockwise (PyAV/FFmpeg display matrix convention), pixels are
    stored as generated (width × height coded), so a player shows them rotated. vfr: irregular frame timestamps
    (mean rate fps). faststart: moov atom at the front (a truncated copy then still opens). Odd sizes need
    pix_fmt="yuv444p" (4:2:0 chroma needs even sizes).
    """
    if not shots or any(n <= 0 for n in shots):
        raise ValueError(f"shots must be positive frame counts, got {list(shots)}")
    total = int(sum(shots))
    rate = Fraction(fps).limit_denominator(1001)
    times = vfr_times(total, fps, seed) if vfr else [i / float(rate) for i in range(total)]
    time_base = Fraction(1, 90000)
    margin = max(16, min(width, height) // 4)
    options = {"movflags": "+faststart"} if faststart else {}
    path = str(path)
    with av.open(path, mode="w", options=options) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = pix_fmt
        if codec == "libx264":
            stream.options = {"preset": preset, "crf": str(crf)}
        stream.thread_count = threads
        stream.codec_context.time_base = time_base
        stream.time_base = time_base
        if rotation:
            stream.set_display_rotation(rotation)
        index = 0
        for s, n in enumerate(shots):
            for rgb in _shot_frames(width, height, n, seed * 97 + s, margin):
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts = int(round(times[index] / time_base))
                frame.time_base = time_base
                for packet in stream.encode(frame):
                    container.mux(packet)
                index += 1
        for packet in stream.encode():
            container.mux(packet)
    cuts = tuple(int(c) for c in np.cumsum(shots)[:-1])
    return SynthVideo(path, width, height, float(fps), tuple(int(n) for n in shots), cuts, tuple(times),
                      int(rotation or 0))
