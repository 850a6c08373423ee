"""2-D experiment: DMD vs OTD vs OTD+DMD vs OTD+DMD+GAN on a Gaussian-mixture target with an exact teacher.

    python -m vdot_train.experiments.gmm2d --out docs --seeds 0 1 2 3 4 --jobs 2   # full run (~15 CPU minutes)
    python -m vdot_train.experiments.gmm2d --out /tmp/x --tiny   # seconds; what the test runs

Writes <out>/experiments.md (command, settings, per-seed and mean table) and <out>/img/gmm2d.png.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from uvc_data.imports import require
from vdot_train.experiments.gmm2d_train import METHODS, GMM2DConfig, sample, train
from vdot_train.experiments.gmm_target import GaussianMixture2D, mode_metrics, w2_distance


NOTES_HEADING = "## Reading the results"


def evaluate(target: GaussianMixture2D, samples: torch.Tensor, reference: torch.Tensor) -> dict[str, float]:
    return {**mode_metrics(target, samples), "w2": w2_distance(samples, reference)}


def _reference(target: GaussianMixture2D, n_eval: int) -> torch.Tensor:
    # stratified reference: exact mode proportions, so W2 is not dominated by the reference's count noise
    return target.sample_stratified(n_eval, torch.Generator().manual_seed(10_000))


def run_one(cfg: GMM2DConfig, n_eval: int, threads: int | None = None) -> tuple[dict, torch.Tensor]:
    """Train one (method, seed); returns its metrics row (with CPU-process seconds) and its n_eval samples."""
    if threads is not None:
        torch.set_num_threads(threads)
    target = GaussianMixture2D.ring()
    t0 = time.perf_counter()
    trained = train(cfg, target)
    x = sample(trained, n_eval, seed=20_000 + cfg.seed)
    row = {"method": cfg.method, "seed": cfg.seed, **evaluate(target, x, _reference(target, n_eval)),
           "seconds": time.perf_counter() - t0}
    return row, x


def run(methods: list[str], seeds: list[int], base: GMM2DConfig, n_eval: int,
        jobs: int = 1) -> tuple[list[dict], dict]:
    """Train every method for every seed (`jobs` worker processes, one torch thread each when jobs > 1); returns
    per-run rows in (method, seed) order and {method: samples of the first seed}."""
    target = GaussianMixture2D.ring()
    reference = _reference(target, n_eval)
    cfgs = [dataclasses.replace(base, method=m, seed=s) for m in methods for s in seeds]
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs) as pool:
            futures = [pool.submit(run_one, c, n_eval, 1) for c in cfgs]
            results = []
            for f in futures:
                results.append(f.result())
                print(json.dumps(results[-1][0]), flush=True)
    else:
        results = []
        for c in cfgs:
            results.append(run_one(c, n_eval))
            print(json.dumps(results[-1][0]), flush=True)
    rows, shown = [], {}
    for row, x in results:
        rows.append(row)
        shown.setdefault(row["method"], x)
    baseline = target.sample(n_eval, torch.Generator().manual_seed(30_000))
    rows.append({"method": "target samples (reference floor)", "seed": -1, **evaluate(target, baseline, reference),
                 "seconds": 0.0})
    shown["target"] = baseline
    return rows, shown


def summary_table(rows: list[dict]) -> str:
    lines = ["| method | modes covered (of 8) | near a mode | mode imbalance (TV) | W2 to target | seeds |",
             "|---|---|---|---|---|---|"]
    for method in dict.fromkeys(r["method"] for r in rows):
        rs = [r for r in rows if r["method"] == method]

        def ms(key: str, fmt: str) -> str:
            vals = [r[key] for r in rs]
            sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
            return f"{statistics.mean(vals):{fmt}} ± {sd:{fmt}}" if len(vals) > 1 else f"{vals[0]:{fmt}}"

        lines.append(f"| {method} | {ms('modes_covered', '.1f')} | {ms('near_mode', '.3f')} | {ms('mode_tv', '.3f')} "
                     f"| {ms('w2', '.3f')} "
                     f"| {len(rs) if rs[0]['seed'] >= 0 else '-'} |")
    return "\n".join(lines)


def per_seed_table(rows: list[dict]) -> str:
    lines = ["| method | seed | modes | near a mode | mode TV | W2 | train s |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["seed"] < 0:
            continue
        lines.append(f"| {r['method']} | {r['seed']} | {r['modes_covered']:.0f} | {r['near_mode']:.3f} | {r['mode_tv']:.3f} "
                     f"| {r['w2']:.3f} | {r['seconds']:.1f} |")
    return "\n".join(lines)


def plot(shown: dict, path: Path) -> None:
    plt = require("matplotlib.pyplot", "matplotlib", "the 2-D experiment plot")
    target = GaussianMixture2D.ring()
    names = list(shown)
    fig, axes = plt.subplots(1, len(names), figsize=(2.6 * len(names), 3.0), squeeze=False, layout="constrained")
    for ax, name in zip(axes[0], names):
        x = shown[name].numpy()
        ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.4)
        ax.scatter(target.means[:, 0], target.means[:, 1], s=25, marker="x", color="red")
        ax.set_title(name.replace(" (", "\n("), fontsize=9)
        ax.set_xlim(-3.6, 3.6)
        ax.set_ylim(-3.6, 3.6)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(out: Path, rows: list[dict], base: GMM2DConfig, seeds: list[int], command: str, n_eval: int) -> Path:
    settings = json.dumps({k: v for k, v in dataclasses.asdict(base).items() if k not in ("method", "seed")},
                          default=str)
    total = sum(r["seconds"] for r in rows)
    text = f"""# Experiments

## 2-D Gaussian mixture: DMD vs OTD vs OTD + DMD vs + GAN

Command (CPU, {total:.0f} s of training in total):

```
{command}
```

Target: 8 Gaussians on a ring of radius 2.5, std 0.1, equal weights. The real score is exact: E[x0 | x_t] of the
mixture under x_t = (1 − σ)x0 + σε (`vdot_train/experiments/gmm_target.py`, GMM-1…3). Generator and fake score are
3-hidden-layer MLPs (velocity parameterisation, x0 = x_t − σv); the generator is a {len(base.steps)}-step student
(steps {list(base.steps)}, Self-Forcing rollout with a random exit step); the fake score is trained by the
denoising loss and warmed up for {base.warmup} iterations on the initial generator; TTUR: the generator updates on every
{base.gen_every}-th of {base.iters} critic iterations; DMD normaliser `{base.dmd_normaliser}`. OTD uses the batch ({base.batch} samples) as the point cloud
(`OTDConfig(points="batch")`, ε {base.otd.eps}, {base.otd.iters} Sinkhorn iterations, α {base.otd.alpha}, L2-normalised
gradient). Weights: OTD + DMD = 0.8·OTD + 0.2·DMD (official), GAN weight {base.gan_weight} with the official parity
alternation (even iterations: OTD/DMD + fake-score update; odd: GAN generator loss + discriminator update, a small MLP
on noisy real/fake samples at the same t, relativistic loss). Seeds {seeds}.

Metrics on {n_eval} samples from the full sampler: *modes covered* = modes whose count of samples within 3 std reaches
10% of the expected count; *near a mode* = share of samples within 3 std of some mode; *mode imbalance (TV)* = ½Σ|p̂_k − 1/8| over the
nearest-mode histogram of all samples (0 balanced, 0.5 = exactly half the modes empty); *W2* = exact W2 to {n_eval}
target samples drawn with exact mode proportions (POT `ot.emd2`, squared Euclidean cost, square root). The last row
is a fresh i.i.d. sample of the target: the floor W2 reaches at this sample size (its mode counts fluctuate, as a
generator's do).

{summary_table(rows)}

![samples of the first seed per method](img/gmm2d.png)

Per seed:

{per_seed_table(rows)}

Settings: `{settings}`
"""
    path = out / "experiments.md"
    if path.is_file() and NOTES_HEADING in path.read_text():  # keep the hand-written reading of the results
        old = path.read_text()
        text += "\n" + old[old.index(NOTES_HEADING):]
    path.write_text(text)
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="folder for experiments.md and img/gmm2d.png")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--iters", type=int, default=None, help="critic iterations per run")
    ap.add_argument("--gen-every", type=int, default=None, help="TTUR: generator update every k-th critic iteration")
    ap.add_argument("--batch", type=int, default=None, help="batch size (also the OTD point cloud)")
    ap.add_argument("--steps", type=int, nargs="+", default=None, help="student timesteps, e.g. 1000 500")
    ap.add_argument("--dmd-normaliser", choices=["t_over_1000", "mean_abs", "none"], default=None,
                    help="DMD-2 normaliser (default none; official VDOT code: t_over_1000)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (one torch thread each when > 1)")
    ap.add_argument("--n-eval", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: leave torch's setting)")
    ap.add_argument("--per-sample-t", action="store_true", help="DMD/OTD step: one t per sample (default: one per batch)")
    ap.add_argument("--tiny", action="store_true", help="seconds-long smoke run (what the test runs)")
    args = ap.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    base = GMM2DConfig()
    if args.tiny:
        base = dataclasses.replace(base, iters=30, warmup=10, batch=64, hidden=32)
        args.n_eval = min(args.n_eval, 200)
    if args.per_sample_t:
        base = dataclasses.replace(base, shared_t=False)
    overrides = {"iters": args.iters, "gen_every": args.gen_every, "batch": args.batch,
                 "steps": tuple(args.steps) if args.steps else None, "dmd_normaliser": args.dmd_normaliser}
    base = dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})
    if args.jobs < 1:
        ap.error("--jobs must be >= 1")
    rows, shown = run(args.methods, args.seeds, base, args.n_eval, jobs=args.jobs)
    plot(shown, args.out / "img" / "gmm2d.png")
    command = "python -m vdot_train.experiments.gmm2d " + " ".join(sys.argv[1:] if argv is None else argv)
    path = write_report(args.out, rows, base, args.seeds, command, args.n_eval)
    print(f"wrote {path} and {args.out / 'img' / 'gmm2d.png'}")


if __name__ == "__main__":
    main()
