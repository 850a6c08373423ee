"""CPU seconds per frame of the native MUSIQ (imaging_quality) on a 512×295 frame — an 832×480 video frame after
VBench's 'longer' resize: 353 tokens (35 of 49 at 224, 84 of 144 at 384, 160 at full resolution) + CLS.

Usage: .venv/bin/python benchmarks/bench_nets_musiq.py [--frames 8] [--batch 1 8] [--threads 2]
Random weights (timing does not depend on values); float32, torch.no_grad, after one warm-up batch.
"""
from __future__ import annotations

import argparse
import time

import torch

from uvc_bench.metrics.nets.musiq import MUSIQ


def seconds_per_frame(model: MUSIQ, frames: int, batch: int, size: tuple[int, int]) -> tuple[float, float]:
    """(wall seconds, process CPU seconds summed over threads) per frame."""
    x = torch.rand(batch, 3, *size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        model(x)  # warm-up
        start, cpu = time.perf_counter(), time.process_time()
        done = 0
        while done < frames:
            model(x)
            done += batch
    return (time.perf_counter() - start) / done, (time.process_time() - cpu) / done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = MUSIQ().eval()
    for b in args.batch:
        wall, cpu = seconds_per_frame(model, args.frames, b, (295, 512))
        print(f"MUSIQ 512x295, batch {b}, {args.threads} threads: {wall:.3f} wall s/frame, {cpu:.3f} CPU s/frame")


if __name__ == "__main__":
    main()
