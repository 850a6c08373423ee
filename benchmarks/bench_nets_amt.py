"""Native AMT-S (uvc_bench.metrics.nets.amt) on CPU: seconds per interpolated 480×832 frame (VBench's standard
video size; 480 and 832 are multiples of 16, so no padding), t = ½, scale 1.0 (what VBench uses on CPU).

Random weights (the run time does not depend on their values); both CPU seconds (process time, all threads) and
wall seconds are reported, per interpolated frame, for each batch size of frame pairs, with the process's peak
resident memory so far (run batch sizes in increasing order to read it per batch size).

    .venv/bin/python benchmarks/bench_nets_amt.py [--height 480] [--width 832] [--batch 1 2] [--repeats 3]
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from uvc_bench.metrics.nets.amt import AMTS  # noqa: E402


def per_frame_seconds(model: AMTS, batch: int, height: int, width: int, repeats: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) per interpolated frame, best of `repeats` after one warm-up call."""
    g = torch.Generator().manual_seed(0)
    img0, img1 = torch.rand(batch, 3, height, width, generator=g), torch.rand(batch, 3, height, width, generator=g)
    embt = torch.full((batch, 1, 1, 1), 0.5)
    model(img0, img1, embt)
    best_cpu = best_wall = float("inf")
    for _ in range(repeats):
        c, w = time.process_time(), time.perf_counter()
        model(img0, img1, embt)
        best_cpu = min(best_cpu, (time.process_time() - c) / batch)
        best_wall = min(best_wall, (time.perf_counter() - w) / batch)
    return best_cpu, best_wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--width", type=int, default=832)
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.manual_seed(0)
    model = AMTS().eval()
    print(f"AMT-S native, {args.height}×{args.width}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| pairs per call | CPU s / frame | wall s / frame | peak RSS so far (GiB) |")
    print("|---|---|---|---|")
    for b in args.batch:
        cpu, wall = per_frame_seconds(model, b, args.height, args.width, args.repeats)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB on Linux
        print(f"| {b} | {cpu:.2f} | {wall:.2f} | {rss:.2f} |")


if __name__ == "__main__":
    main()
