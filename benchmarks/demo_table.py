"""The demo's condition-fidelity table over sampling seeds: teacher@50, teacher@4, DMD-only@4 and VDOT@4 on the held-out
cases, kept-region PSNR (outpainting, extension, firstframe+gray) and gray-consistency PSNR (gray, firstframe+gray).

    .venv/bin/python benchmarks/demo_table.py --work runs/demo --seeds 0,1

Seed 0 stands for the demo's own bench (<work>/bench, sampled at the bench's default case seed, 2025); every other
seed re-runs the same four `uvc bench run` commands
(Demo.runs()) with `--seed` into <work>/bench_seed<k>. The last row block is the mean over the seeds.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipelines.demo import Demo, DemoConfig

COLUMNS = [("outpainting", "kept_psnr"), ("extension", "kept_psnr"), ("firstframe+gray", "kept_psnr"),
           ("gray", "gray_psnr"), ("firstframe+gray", "gray_psnr")]


def bench_dir(work: Path, seed: int) -> Path:
    return work / ("bench" if seed == 0 else f"bench_seed{seed}")


def run_seed(demo: Demo, seed: int) -> None:
    c = demo.cfg
    for name, sets in demo.runs():
        out = bench_dir(demo.work, seed) / name
        if (out / "results.json").is_file():
            continue
        demo._uvc("bench", "run", "--suite", str(demo.work / "suite"), "--model", "vdot", *sets, "--name", name,
                  "--out", str(out), "--height", str(c.height), "--width", str(c.width), "--frames", str(c.frames),
                  "--backend", "offline", "--no-progress", "--seed", str(seed),
                  "--tasks", ",".join(sorted({t for t, _ in COLUMNS})))


def row(results: Path) -> list[float]:
    tasks = json.loads(results.read_text())["tasks"]
    return [tasks.get(t, {}).get("fidelity", {}).get(m, float("nan")) for t, m in COLUMNS]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default="runs/demo")
    ap.add_argument("--seeds", default="0,1")
    a = ap.parse_args()
    work = Path(a.work)
    cfg = DemoConfig(**json.loads((work / "demo_config.json").read_text()))
    demo = Demo(cfg)
    seeds = [int(s) for s in a.seeds.split(",")]
    for s in seeds:
        if s != 0:
            run_seed(demo, s)
    names = [n for n, _ in demo.runs()]
    print("| run | seed | " + " | ".join(f"{t} {m.replace('_psnr', '')} PSNR (dB)" for t, m in COLUMNS) + " |")
    print("|---|---|" + "---:|" * len(COLUMNS))
    table = {n: [row(bench_dir(work, s) / n / "results.json") for s in seeds] for n in names}
    for n in names:
        for s, r in zip(seeds, table[n]):
            print(f"| {n} | {s} | " + " | ".join(f"{v:.2f}" for v in r) + " |")
    for n in names:
        mean = [sum(r[i] for r in table[n]) / len(seeds) for i in range(len(COLUMNS))]
        print(f"| **{n}** | mean | " + " | ".join(f"**{v:.2f}**" for v in mean) + " |")


if __name__ == "__main__":
    main()
