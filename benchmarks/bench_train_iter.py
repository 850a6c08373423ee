"""Wall time of one full VDOT training iteration (generator + critic update) vs DMD only, side by side in one process.

Modes, timed interleaved (median of --repeats each) on the same tiny VACE trainer:
  dmd        even iteration with the DMD generator loss only (Self-Forcing style)
  dmd+otd    even iteration with 0.2·DMD + 0.8·OTD (VDOT's even step)
  gan        odd iteration (GAN-G + GAN-D), for reference
Goal (brief): OTD adds ≤ 30% to an iteration.

    .venv/bin/python benchmarks/bench_train_iter.py --frames 5 --height 64 --width 64 --layers 4 --repeats 7
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
    ap.add_argument("--otd-iters", type=int, default=60)
    ap.add_argument("--otd-tol", type=float, default=None, help="Sinkhorn early stop (OTDConfig.tol); default off")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from uvc_data.testing.samples import synthetic_sample as make_sample
    from uvc_data.configurable import apply_overrides
    from vdot_train.models.tiny import TinySpec, save_tiny_model_dir
    from vdot_train.recipes import get_recipe
    from vdot_train.trainer.build import build_vdot_trainer

    tmp = Path(tempfile.mkdtemp())
    spec = TinySpec(num_layers=args.layers, heads=args.heads, ffn_dim=4 * args.heads * 16)
    save_tiny_model_dir(tmp / "teacher", "vace", spec)
    cfg = get_recipe("tiny_cpu")
    cfg = apply_overrides(cfg, [f"model.path={tmp / 'teacher'}", "model.init_tiny=false", f"run.out_dir={tmp / 'run'}",
                                "schedule.dfake_gen_update_ratio=1", "schedule.exit_step=3", "run.log_every=0",
                                "run.ckpt_every=0", f"loss.otd.iters={args.otd_iters}",
                                f"disc.blocks=[{args.layers - 3},{args.layers - 2},{args.layers - 1}]"])
    if args.otd_tol is not None:
        cfg = apply_overrides(cfg, [f"loss.otd.tol={args.otd_tol}"])
    samples = [make_sample(i, frames=args.frames, size=(args.height, args.width)) for i in range(4)]
    tr = build_vdot_trainer(cfg, samples)

    def timed(mode: str) -> float:
        tr.step = 1 if mode == "gan" else 0
        tr.cfg.loss.otd_weight = 0.8 if mode == "dmd+otd" else 0.0
        tr.cfg.loss.dmd_weight = 0.2 if mode == "dmd+otd" else 1.0
        t0 = time.perf_counter()
        tr.train_step()
        return time.perf_counter() - t0

    modes = ["dmd", "dmd+otd", "gan"]
    for m in modes:  # warm-up
        timed(m)
    times: dict[str, list[float]] = {m: [] for m in modes}
    for _ in range(args.repeats):
        for m in modes:
            times[m].append(timed(m))
    med = {m: statistics.median(v) for m, v in times.items()}
    lat = tr.data.next_batch().shape
    print(f"latent {tuple(lat)}, layers {args.layers}, dim {args.heads * 16}, OTD iters {args.otd_iters} "
          f"(tol {args.otd_tol}), "
          f"threads {args.threads}, repeats {args.repeats} (median s, exit step 3 = full 4-step rollout)")
    for m in modes:
        print(f"  {m:8s} {med[m]:.4f} s")
    print(f"  OTD overhead on an even iteration: {100 * (med['dmd+otd'] / med['dmd'] - 1):+.1f}%")
    print(f"  VDOT 2-iteration cycle (even dmd+otd + odd gan) vs DMD only (2 even dmd): "
          f"{(med['dmd+otd'] + med['gan']) / (2 * med['dmd']):.2f}×")


if __name__ == "__main__":
    main()
