"""Time one RAFT forward (one frame pair, 20 iterations, float32) of the native raft-things model on this machine.

Usage: .venv/bin/python benchmarks/bench_nets_raft.py [--size 480x832] [--iters 20] [--repeat 2] [--oracle]
Random weights (the cost does not depend on them) and random images. Prints wall and CPU (process) seconds per pair;
--oracle also times the official RAFT VBench vendors (.venv/reference, as the tests' oracle) on the same pair, in the
same run, and the max |Δflow| between the two.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def timed(fn, repeat: int) -> tuple[float, float, torch.Tensor]:
    """Best wall seconds and the CPU seconds of that call, over `repeat` calls."""
    best = (float("inf"), 0.0, None)
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        with torch.no_grad():
            out = fn()
        w, c = time.perf_counter() - w0, time.process_time() - c0
        if w < best[0]:
            best = (w, c, out)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="480x832", help="HxW, multiples of 8")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--oracle", action="store_true", help="also time the official RAFT (reference code installed)")
    args = ap.parse_args()
    h, w = (int(v) for v in args.size.lower().split("x"))

    from uvc_data.nets.raft import RAFT

    torch.manual_seed(0)
    ours = RAFT().eval()
    img1, img2 = torch.rand(1, 3, h, w) * 255, torch.rand(1, 3, h, w) * 255
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {h}×{w}, {args.iters} iterations, 1 pair")
    wall, cpu, (_, flow) = timed(lambda: ours(img1, img2, iters=args.iters), args.repeat)
    print(f"native RAFT:   {wall:7.2f} s wall  {cpu:7.2f} s CPU per pair")
    if args.oracle:
        import argparse as ap_mod

        from tests.nets.raft_oracle import oracle_raft

        ref_cls, _ = oracle_raft()
        ref = ref_cls(ap_mod.Namespace(small=False, mixed_precision=False, alternate_corr=False))
        ref.load_state_dict(ours.state_dict())
        ref.eval()
        rwall, rcpu, (_, rflow) = timed(lambda: ref(img1, img2, iters=args.iters, test_mode=True), args.repeat)
        print(f"official RAFT: {rwall:7.2f} s wall  {rcpu:7.2f} s CPU per pair   "
              f"(native/official wall {wall / rwall:.2f}); max |Δflow| {float((flow - rflow).abs().max()):.2e}")


if __name__ == "__main__":
    main()
