"""How the demo's teacher learns to follow its conditions: held-out condition fidelity at each saved checkpoint.

    .venv/bin/python benchmarks/demo_teacher_curve.py --work runs/demo --guidance 1,3

For every checkpoint in <work>/teacher/checkpoints (or --checkpoints), `uvc bench run` samples the teacher on the
demo suite's held-out cases of the fidelity tasks (default outpainting, extension, gray, firstframe+gray) at the demo's
working size, and the kept-region PSNR (mask-0 pixels vs the given frames) and gray-consistency PSNR (output luma vs
the gray control) are printed per task, one row per (checkpoint, guidance).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

MEASURES = ("kept_psnr", "gray_psnr")


def evaluate(work: Path, ckpt: Path, guidance: float, steps: int, tasks: str, out: Path,
             shift: float = 16.0, seed: int | None = None) -> dict[str, dict[str, float]]:
    cfg = json.loads((work / "demo_config.json").read_text())
    cmd = [sys.executable, "-m", "uvc_cli.main", "bench", "run", "--suite", str(work / "suite"), "--model", "vdot",
           "--set", f"path={work / 'teacher_init'}", "--set", f"weights={ckpt}", "--set", "codec=pixel",
           "--set", "codec_patch=2", "--set", "text_max_length=16", "--set", f"steps={steps}",
           "--set", f"guidance={guidance}", "--set", f"shift={shift}", "--name", f"{ckpt.name}_g{guidance}", "--out", str(out),
           "--height", str(cfg["height"]), "--width", str(cfg["width"]), "--frames", str(cfg["frames"]),
           "--backend", "offline", "--dimensions", "motion_smoothness", "--no-progress", "--tasks", tasks,
           *(["--seed", str(seed)] if seed is not None else [])]  # None: the bench's default, as the demo's bench
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    res = json.loads((out / "results.json").read_text())
    return {t: {k: v for k, v in r.get("fidelity", {}).items() if k in MEASURES} for t, r in res["tasks"].items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default="runs/demo")
    ap.add_argument("--checkpoints", default="", help="comma-separated checkpoint dirs (default: all of the teacher's)")
    ap.add_argument("--guidance", default="1")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--shift", type=float, default=16.0, help="sampling shift (the bench's vdot default: 16)")
    ap.add_argument("--tasks", default="outpainting,extension,gray,firstframe+gray")
    ap.add_argument("--out", default="", help="bench outputs (default <work>/teacher_curve)")
    a = ap.parse_args()
    work = Path(a.work)
    ckpts = ([Path(c) for c in a.checkpoints.split(",")] if a.checkpoints
             else sorted((work / "teacher" / "checkpoints").glob("step_*")))
    out = Path(a.out or work / "teacher_curve")
    cols: list[tuple[str, str]] = []
    for ck in ckpts:
        for g in (float(x) for x in a.guidance.split(",")):
            row = evaluate(work, ck, g, a.steps, a.tasks, out / f"{ck.name}_g{g}_s{a.shift:g}", a.shift)
            if not cols:
                cols = [(t, m) for t in a.tasks.split(",") for m in MEASURES if m in row.get(t, {})]
                print("| checkpoint | guidance | shift | " + " | ".join(f"{t} {m}" for t, m in cols) + " |")
                print("|---|---|---|" + "---:|" * len(cols))
            cells = [f"{row.get(t, {}).get(m, float('nan')):.2f}" for t, m in cols]
            print(f"| {ck.name} | {g:g} | {a.shift:g} | " + " | ".join(cells) + " |", flush=True)

if __name__ == "__main__":
    main()
