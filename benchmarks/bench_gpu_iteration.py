"""The real-width VDOT iteration on one accelerator in bf16, its peak memory next to the memory planner's prediction.

A Wan-VACE at the 1.3B width (dim 1536, 12 heads × 128, ffn 8960; --blocks main + --vace VACE blocks; random
weights saved as a diffusers dir, as benchmarks/bench_sharded_train.py builds it), pixel codec, per-block
checkpointing, official heads at this width, OTD with the official 60 Sinkhorn iterations. Two iterations with
`dfake_gen_update_ratio=1` (generator DMD + OTD and critic denoising; GAN-G and GAN-D), bf16 autocast over fp32
master weights (`run.mixed_precision=bf16`), teacher in bf16. Reported: CUDA peak allocated / reserved bytes for the
build and for the iterations, seconds per iteration, and the planner's tensor bytes for the same config at world 1
(`vdot_train.scale.planner.plan`, device "cuda": persistent + the largest phase, without its fixed context/slack
allowance, which is reported apart).

    .venv/bin/python benchmarks/bench_gpu_iteration.py --frames 21 --size 128 --work /tmp/bgi      # on a GPU machine
    .venv/bin/python benchmarks/bench_gpu_iteration.py --device cpu --frames 5 --size 32 --work /tmp/bgi   # dry run

On the CPU (the dry run) the peaks are RSS, compute is fp32, and the planner is asked for device "cpu".
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_sharded_train as bst  # noqa: E402  (the network and the trainer's config)

GiB = 1 << 30


def measure(args) -> dict:
    import torch

    from uvc_data.configurable import apply_overrides
    from uvc_data.testing.samples import synthetic_sample
    from vdot_train.scale.planner import latent_tokens, net_shape, plan
    from vdot_train.trainer.build import build_vdot_trainer

    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    cuda = device == "cuda"
    work = Path(args.work)
    if not (work / "model" / "transformer" / "config.json").is_file():
        bst.make_model(work / "model", args.blocks, args.vace)
    cfg = apply_overrides(bst.config(str(work / "model"), str(work / "run"), args, False),
                          [f"run.device={device}", f"run.mixed_precision={'bf16' if cuda else 'no'}",
                           f"model.teacher_dtype={'bfloat16' if cuda else 'float32'}", "run.ckpt_every=0"])
    samples = [synthetic_sample(i, args.frames, (args.size, args.size)) for i in range(4)]
    rss = None if cuda else bst.PeakRSS()
    base = torch.cuda.memory_allocated() if cuda else rss.proc.memory_info().rss

    def peak(name: str) -> dict:
        if cuda:
            torch.cuda.synchronize()
            out = {"allocated": torch.cuda.max_memory_allocated(), "reserved": torch.cuda.max_memory_reserved()}
            torch.cuda.reset_peak_memory_stats()
            return out
        rss.mark(name)
        return {"allocated": rss.phases[name], "reserved": rss.phases[name]}

    t0 = time.perf_counter()
    tr = build_vdot_trainer(cfg, samples, resume=False)
    build = {**peak("build"), "seconds": time.perf_counter() - t0}
    times = []
    for _ in range(args.iters):
        t0 = time.perf_counter()
        tr.train_step()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    step = peak("step")
    pl = plan(cfg, 1, 141 * GiB, device=device)
    tensors = pl.persistent + pl.peak_phase[1]
    return {"device": torch.cuda.get_device_name() if cuda else "cpu", "tokens_per_sample": latent_tokens(cfg, net_shape(cfg))[0], "baseline": base,
            "build": build, "step": step, "seconds_per_iteration": times,
            "plan": {"tensor_bytes": tensors, "peak_with_allowance": pl.peak, "phase": pl.peak_phase[0],
                     "persistent": pl.persistent, "rows": pl.rows, "phases": pl.phases, "notes": pl.notes},
            "counters": dict(tr.counters)}  # skipped_* > 0 would mean a non-finite loss or gradient


def main() -> None:
    ap = bst.parser()
    ap.description = __doc__
    ap.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu"])
    ap.add_argument("--iters", type=int, default=2, help="iterations (2 = every phase once with --ratio 1)")
    ap.set_defaults(min_params=4_500_000)
    args = ap.parse_args()
    Path(args.work).mkdir(parents=True, exist_ok=True)
    out = measure(args)
    Path(args.work, "gpu_iteration.json").write_text(json.dumps(out, indent=1, default=str))
    got = out["step"]["allocated"] - out["baseline"]
    print(f"{out['device']}: build peak {out['build']['allocated'] / GiB:.2f} GiB allocated; iterations peak "
          f"{out['step']['allocated'] / GiB:.2f} GiB allocated, {out['step']['reserved'] / GiB:.2f} GiB reserved; "
          f"seconds per iteration {[round(t, 2) for t in out['seconds_per_iteration']]}")
    print(f"planner: {out['plan']['tensor_bytes'] / GiB:.2f} GiB of tensors at the peak ({out['plan']['phase']}), "
          f"{out['plan']['peak_with_allowance'] / GiB:.2f} GiB with its context/slack allowance; measured above the "
          f"baseline {got / GiB:.2f} GiB (planner ÷ measured {out['plan']['tensor_bytes'] / got:.2f})")


if __name__ == "__main__":
    main()
