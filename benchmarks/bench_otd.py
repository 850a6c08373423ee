"""OTD gradient benchmark: the envelope-theorem gradient of W_ε (ours, the paper's) vs autograd through the unrolled
Sinkhorn loop — of W_ε (`unrolled_entropic`) or of the transport cost ⟨C, T⟩ alone (`unrolled_cost`, the official
code's gradient).

Each mode runs in a fresh subprocess on the same seeded latents; the parent reports wall time, peak RSS (absolute and
above the process's baseline after the inputs are built) and the cosine of every mode's gradient with the envelope one
(after the per-frame normalisation, i.e. the direction the generator is pushed in).

    .venv/bin/python benchmarks/bench_otd.py                                 # paper shape, all modes
    .venv/bin/python benchmarks/bench_otd.py --frames 1 --modes envelope unrolled_cost   # paper point clouds, 1 frame
    .venv/bin/python benchmarks/bench_otd.py --height 8 --width 8            # small clouds (16 points per frame)

Paper shape (method.md): latent [1, 16, 21, 60, 104] → 21 frames × 1,560 points × 16 channels, ε 0.1, 60 iterations.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from vdot_train.losses.otd import GRADIENTS


def rss_mib() -> float:
    """Current resident set size of this process (Linux /proc), MiB."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def cpu_seconds() -> float:
    """User + system CPU time of this process: robust to other jobs sharing the cores, unlike wall time."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def make_latents(frames: int, height: int, width: int, channels: int, noise: float, seed: int):
    """x0_fake ~ N(0, I) and x0_real = x0_fake + noise·N(0, I), latents [1, C, T, H, W]."""
    g = torch.Generator().manual_seed(seed)
    fake = torch.randn(1, channels, frames, height, width, generator=g)
    real = fake + noise * torch.randn(fake.shape, generator=g)
    return fake, real


def worker(args: argparse.Namespace) -> None:
    from vdot_train.losses.otd import OTDConfig, otd_gradient_and_stats

    torch.set_num_threads(args.threads)
    fake, real = make_latents(args.frames, args.height, args.width, args.channels, args.noise, args.seed)
    base = rss_mib()
    cfg = OTDConfig(eps=args.eps, iters=args.iters, gradient=args.worker, chunk=args.chunk)
    times, cpu = [], []
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), cpu_seconds()
        grad, stats = otd_gradient_and_stats(fake, real, cfg)
        times.append(time.perf_counter() - t0)
        cpu.append(cpu_seconds() - c0)
    torch.save(grad, args.grad_out)
    out = {"mode": args.worker, "seconds": min(times), "cpu_seconds": min(cpu), "load_avg_1min": os.getloadavg()[0],
           "peak_rss_mib": peak_rss_mib(), "baseline_rss_mib": base,
           "peak_above_baseline_mib": peak_rss_mib() - base, **stats}
    print(json.dumps(out))


def run_mode(mode: str, args: argparse.Namespace, tmp: Path) -> dict:
    grad_path = tmp / f"{mode}.pt"
    cmd = [sys.executable, __file__, "--worker", mode, "--grad-out", str(grad_path)]
    for k in ("frames", "height", "width", "channels", "eps", "iters", "noise", "seed", "threads", "repeats"):
        cmd += [f"--{k}", str(getattr(args, k))]
    if args.chunk is not None and mode == "envelope":
        cmd += ["--chunk", str(args.chunk)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    if proc.returncode != 0:
        return {"mode": mode, "failed": proc.stderr.strip().splitlines()[-1] if proc.stderr else f"rc {proc.returncode}"}
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["grad_path"] = str(grad_path)
    return res


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=21)
    ap.add_argument("--height", type=int, default=60, help="latent height (pooled 2×2 → 30)")
    ap.add_argument("--width", type=int, default=104, help="latent width (pooled 2×2 → 52)")
    ap.add_argument("--channels", type=int, default=16)
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--iters", type=int, default=60)
    ap.add_argument("--noise", type=float, default=0.5, help="x0_real = x0_fake + noise·N(0, I)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--chunk", type=int, default=None, help="envelope: frames per Sinkhorn call")
    ap.add_argument("--modes", nargs="+", default=list(GRADIENTS), choices=GRADIENTS)
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--worker", choices=GRADIENTS, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--grad-out", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args)
        return
    n_points = (args.height // 2) * (args.width // 2)
    print(f"OTD: {args.frames} frames × {n_points} points × {args.channels} ch, eps {args.eps}, {args.iters} iters, "
          f"{args.threads} threads, torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as td:
        results = [run_mode(m, args, Path(td)) for m in args.modes]
        ok = {r["mode"]: r for r in results if "failed" not in r}
        if "envelope" in ok:
            ref = torch.load(ok["envelope"]["grad_path"], weights_only=True).flatten()
            for r in ok.values():
                g = torch.load(r["grad_path"], weights_only=True).flatten()
                r["cos_vs_envelope"] = float(torch.nn.functional.cosine_similarity(ref, g, dim=0))
    print("| mode | wall s | CPU s | load avg | peak RSS MiB | above baseline MiB | W_eps | marginal err | cos vs envelope |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        if "failed" in r:
            print(f"| {r['mode']} | failed: {r['failed']} | | | | | | | |")
            continue
        cos = r.get("cos_vs_envelope")
        print(f"| {r['mode']} | {r['seconds']:.2f} | {r['cpu_seconds']:.2f} | {r['load_avg_1min']:.1f} "
              f"| {r['peak_rss_mib']:.0f} | {r['peak_above_baseline_mib']:.0f} "
              f"| {r['W']:.4f} | {r['err']:.3g} | {'' if cos is None else f'{cos:.6f}'} |")
    if "envelope" in ok:
        env = ok["envelope"]
        for m, r in ok.items():
            if m == "envelope":
                continue
            print(f"{m}/envelope: memory above baseline "
                  f"{r['peak_above_baseline_mib'] / max(env['peak_above_baseline_mib'], 1e-9):.1f}×, "
                  f"wall {r['seconds'] / env['seconds']:.2f}×, CPU {r['cpu_seconds'] / env['cpu_seconds']:.2f}×")
    if args.json:
        for r in results:
            r.pop("grad_path", None)
        args.json.write_text(json.dumps({"args": {k: v for k, v in vars(args).items() if k not in ("json",)},
                                         "results": results}, indent=2, default=str))


if __name__ == "__main__":
    main()
