"""Cost of one teacher training step for candidate demo sizes: wall and CPU seconds per step, side by side.

    .venv/bin/python benchmarks/demo_step_cost.py --work runs/demo --threads 2 \
        --sizes 64x4@9x32x56,128x4@9x32x56,128x6@9x32x56,192x4@9x32x56,128x4@5x32x56,128x4@5x32x32

A size is <dim>x<blocks>@<frames>x<height>x<width> (heads of 32 channels, FFN 2·dim, a VACE hint block at every
block). Each trains a fresh tiny VACE teacher (`FlowMatchingTrainer`, the demo's recipe) on the demo's training
shards for 2 warm-up + `--steps` steps in this process and reports the mean wall and CPU (process) time per step.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import torch

from vdot_train.models.tiny import TinySpec, save_tiny_model_dir
from vdot_train.recipes import get_recipe
from vdot_train.trainer.pretrain import FlowMatchingTrainer


def parse_size(s: str) -> tuple[TinySpec, tuple[int, int, int]]:
    model, shape = s.split("@")
    dim, blocks = (int(x) for x in model.split("x"))
    t, h, w = (int(x) for x in shape.split("x"))
    spec = TinySpec(heads=dim // 32 if dim >= 64 else 2, head_dim=32 if dim >= 64 else dim // 2, ffn_dim=2 * dim,
                    num_layers=blocks, vace_layers=tuple(range(blocks)))
    return spec, (t, h, w)


def step_cost(work: Path, spec: TinySpec, shape: tuple[int, int, int], steps: int, tmp: Path) -> tuple[float, float, int]:
    init = tmp / "init"
    shutil.rmtree(tmp, ignore_errors=True)
    save_tiny_model_dir(init, "vace", spec, text_max_length=16)
    cfg = get_recipe("teacher_tiny_cpu", "pretrain")
    cfg.model.path = str(init)
    cfg.data.shards = [str(work / "train_data" / "shards")]
    cfg.data.exclude_keys_file = str(work / "train_exclude.txt")
    cfg.data.num_frames, cfg.data.height, cfg.data.width = shape
    cfg.run.out_dir, cfg.run.ckpt_every, cfg.run.log_every = str(tmp / "run"), 0, 0
    tr = FlowMatchingTrainer(cfg)
    n = sum(p.numel() for p in tr.model.parameters())
    tr.fit(2)
    t0, c0 = time.perf_counter(), time.process_time()
    tr.fit(2 + steps)
    return (time.perf_counter() - t0) / steps, (time.process_time() - c0) / steps, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default="runs/demo", help="a demo work dir whose train_data stage has run")
    ap.add_argument("--sizes", default="128x4@5x32x56")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    ap.add_argument("--steps", type=int, default=20)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    print(f"| size | parameters | wall s / step | CPU s / step |  (torch threads {torch.get_num_threads()})")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as d:
        for s in a.sizes.split(","):
            spec, shape = parse_size(s)
            wall, cpu, n = step_cost(Path(a.work), spec, shape, a.steps, Path(d) / s)
            print(f"| {s} | {n / 1e6:.2f} M | {wall:.3f} | {cpu:.3f} |", flush=True)


if __name__ == "__main__":
    main()
