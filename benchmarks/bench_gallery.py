"""Cost of the leaderboard gallery: one thumbnail (decode a whole clip, sample frames, resize, animated WebP).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_gallery.py [--frames 81 --height 480 --width 832 --repeats 3]

Prints seconds per thumbnail (median of the repeats) for an official-size clip and the WebP's size; a site's gallery
costs about that times (runs + conditions) × tasks × --gallery-cases.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from leaderboard.media import ThumbConfig, video_thumb
from uvc_data.video.codec import encode_video


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=81)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--width", type=int, default=832)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (args.height, args.width, 3), dtype=np.uint8)
    frames = np.stack([np.roll(base, 4 * t, axis=1) for t in range(args.frames)])  # moving texture
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "clip.mp4"
        path.write_bytes(encode_video(frames, 16.0))
        cfg = ThumbConfig()
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            thumb = video_thumb(path, cfg)
            times.append(time.perf_counter() - t0)
    print(f"{args.frames}×{args.height}×{args.width} clip → {thumb.width}×{thumb.height}, {thumb.frames} frames, "
          f"{len(thumb.data) / 1024:.0f} KiB WebP: {statistics.median(times):.2f} s per thumbnail "
          f"(median of {args.repeats}); load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
