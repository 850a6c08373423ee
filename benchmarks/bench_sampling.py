"""Sampling wall time: 4-step student (guidance 1, UniPC shift 16) vs 50-step teacher (CFG 5, UniPC shift 16) on the
same tiny VACE model, interleaved in one process (median of --repeats each).

    .venv/bin/python benchmarks/bench_sampling.py --frames 5 --height 64 --width 64 --layers 4 --repeats 5
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=5)
    ap.add_argument("--height", type=int, default=64)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--teacher-steps", type=int, default=50)
    ap.add_argument("--teacher-guidance", type=float, default=5.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from uvc_data.testing.samples import synthetic_sample as make_sample
    from uvc_data.vcu import build_vcu
    from vdot_train.models.bundle import ModelConfig, load_bundle
    from vdot_train.models.codecs import CodecConfig
    from vdot_train.models.tiny import TinySpec, save_tiny_model_dir
    from vdot_train.sampling import generate

    tmp = Path(tempfile.mkdtemp())
    save_tiny_model_dir(tmp / "m", "vace", TinySpec(num_layers=args.layers, heads=args.heads,
                                                    ffn_dim=4 * args.heads * 16))
    bundle = load_bundle(ModelConfig(kind="vace", path=str(tmp / "m"), text_max_length=16,
                                     codec=CodecConfig(kind="pixel", patch=2)))
    s = make_sample(0, frames=args.frames, size=(args.height, args.width))
    vcu = build_vcu("depth", s.prompt, s.frames, s.conditions)
    runs = {"student 4 steps": dict(steps=4, guidance=1.0),
            f"teacher {args.teacher_steps} steps CFG": dict(steps=args.teacher_steps, guidance=args.teacher_guidance)}

    def timed(kw) -> float:
        t0 = time.perf_counter()
        generate(bundle, [vcu], shift=16.0, seed=0, **kw)
        return time.perf_counter() - t0

    for kw in runs.values():
        timed(kw)
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(args.repeats):
        for k, kw in runs.items():
            times[k].append(timed(kw))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"VCU depth, {args.frames}×{args.height}×{args.width}, layers {args.layers}, dim {args.heads * 16}, "
          f"threads {args.threads}, repeats {args.repeats} (median s)")
    for k, v in med.items():
        print(f"  {k:28s} {v:.4f} s")
    student, teacher = med["student 4 steps"], med[f"teacher {args.teacher_steps} steps CFG"]
    print(f"  teacher / student: {teacher / student:.1f}×")


if __name__ == "__main__":
    main()
