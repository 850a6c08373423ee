"""Bytes one record puts in Ray's object store per stage hop: an Envelope carrying a Sample, serialised with pickle
protocol 5 (what Ray uses; NumPy arrays travel as out-of-band buffers of the same size), at the working size with the
conditions a sample carries after each stage of the default plan.

    .venv/bin/python benchmarks/bench_object_store.py [--frames 81 --height 480 --width 832]
"""
from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def serialized_bytes(obj) -> int:
    buffers: list = []
    head = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    return len(head) + sum(memoryview(b).nbytes for b in buffers)


def main() -> None:
    import numpy as np

    from uvc_data.sample import Provenance, Sample
    from uvc_data.writer.stages import SAMPLE, Envelope

    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=81)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--width", type=int, default=832)
    a = ap.parse_args()
    t, h, w = a.frames, a.height, a.width
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (t, h, w, 3), dtype=np.uint8)
    prov = Provenance("in.mp4", "in", 0, 0, 0.0, t / 16, 25.0, w, h)
    sample = Sample("in-0000", frames, 16.0, prov, tasks=["t2v"])
    hops = [("split → caption (clip only)", {})]
    conds = {}
    for name in ("gray", "scribble", "flow", "pose", "depth"):
        conds[name] = frames.copy()
    conds["outpaint_mask"] = np.zeros((t, h, w), np.uint8)
    conds["inpaint_mask"] = np.zeros((t, h, w), np.uint8)
    conds["ref_images"] = [frames[0].copy()]
    hops.append(("annotate → write (all conditions)", conds))
    for label, c in hops:
        sample.conditions = dict(c)
        n = serialized_bytes(Envelope(SAMPLE, "in", 0, (0,), payload=sample))
        print(f"{label:38s} {n / 1e6:8.1f} MB per clip per hop  ({t}×{h}×{w})")


if __name__ == "__main__":
    main()
