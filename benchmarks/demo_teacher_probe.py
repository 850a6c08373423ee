"""Teacher-only probes for the demo: train the demo's teacher with some settings changed, then score it on the held-out
cases (kept-region and gray-consistency PSNR), reusing the data, suite and training clips of a finished demo.

    .venv/bin/python benchmarks/demo_teacher_probe.py --base runs/demo --out runs/probe_cos \\
        --set height=32 --set width=32 --set teacher_steps=1500 --set teacher_lr_schedule=cosine

Each `--set field=value` overrides a DemoConfig field (values parsed as JSON when they parse). The probe's work dir
links the base's data/, suite/, train_data/ and train_exclude.txt, runs only the `teacher` stage, and prints one
row per weights and seed: the raw final weights and (when the teacher keeps an EMA) the exported EMA teacher, 50 steps,
guidance 1; columns outpainting / extension / firstframe+gray kept PSNR, gray / firstframe+gray gray PSNR, teacher CPU-s.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

from benchmarks.demo_teacher_curve import evaluate
from pipelines.demo import Demo, DemoConfig

LINKED = ("data", "suite", "train_data", "train_exclude.txt", "inputs")
TASKS = "outpainting,extension,gray,firstframe+gray"
COLUMNS = [("outpainting", "kept_psnr"), ("extension", "kept_psnr"), ("firstframe+gray", "kept_psnr"),
           ("gray", "gray_psnr"), ("firstframe+gray", "gray_psnr")]


def parse_sets(sets: list[str]) -> dict:
    out = {}
    for s in sets:
        k, v = s.split("=", 1)
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="a demo work dir whose data, suite and train_data stages ran")
    ap.add_argument("--out", required=True)
    ap.add_argument("--set", action="append", default=[], dest="sets")
    ap.add_argument("--seeds", default="2025", help="sampling seeds of the evaluation (2025: the bench's default)")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    base, work = Path(a.base).resolve(), Path(a.out)
    cfg = DemoConfig(**{**json.loads((base / "demo_config.json").read_text()), "work": str(work), "threads": a.threads,
                        **parse_sets(a.sets)})
    work.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        if not (work / name).exists():
            (work / name).symlink_to(base / name)
    (work / "demo_config.json").write_text(json.dumps(asdict(cfg), indent=2))
    demo = Demo(cfg)
    if cfg.threads:
        import torch

        torch.set_num_threads(cfg.threads)
    trained = not (work / ".done" / "teacher.json").is_file()
    t0 = time.process_time()
    demo._stage("teacher", demo.teacher)
    cpu = f"{time.process_time() - t0:.0f}" if trained else "reused"  # CPU-s of this process's teacher training
    ckpt = sorted((work / "teacher" / "checkpoints").glob("step_*"))[-1]
    sources = [("raw", ckpt)] + ([("ema", work / "teacher" / "model")] if cfg.teacher_ema > 0 else [])
    changed = " ".join(a.sets)
    for label, src in sources:
        for seed in (int(s) for s in a.seeds.split(",")):
            row = evaluate_seed(work, src, seed)
            cells = " | ".join(f"{row.get(t, {}).get(m, float('nan')):.2f}" for t, m in COLUMNS)
            print(f"| {changed} | {label} | {seed} | {cells} | {cpu} |", flush=True)


def evaluate_seed(work: Path, src: Path, seed: int) -> dict:
    out = work / "probe_eval" / f"{src.name}_s{seed}"
    return evaluate(work, src, 1.0, 50, TASKS, out, seed=seed)


if __name__ == "__main__":
    main()
