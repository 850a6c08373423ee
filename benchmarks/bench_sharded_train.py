"""Per-rank peak memory of the sharded trainer at the real Wan 1.3B width, against one process holding the three
networks unsharded, and against the memory planner's prediction — on the CPU, torchrun + gloo.

A Wan-VACE at the 1.3B width (dim 1536, 12 heads × 128, ffn 8960; text_dim 4096) with --blocks main blocks and
--vace VACE blocks, random weights saved as a diffusers dir; a small UMT5 (d_model 4096) as text encoder; pixel codec.
One full VDOT iteration pair is run (iteration 0: generator DMD+OTD step + critic denoising step; iteration 1: GAN-G
is skipped by the TTUR ratio, GAN-D critic step — with --ratio 1 both objectives update the generator), then a DCP
save and a resume. Each process samples its RSS every 20 ms and reports the peak during build and during the step,
and the baseline RSS after imports (before any network exists).

    .venv/bin/python benchmarks/bench_sharded_train.py --blocks 2 --vace 1 --world 2 --min-params 4500000 --work /tmp/bst
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GiB = 1 << 30
# glibc raises its mmap threshold each time a large block is freed (up to 32 MB), after which freed tensors below it
# stay in the heap and in RSS: the peak RSS then counts memory no tensor holds (measured: +0.7 GiB per rank at 2 + 1
# blocks). A fixed 1 MiB threshold returns every freed tensor of ≥ 1 MiB to the OS, in both runs alike, so RSS
# tracks live tensors, as a GPU's allocated bytes would.
MMAP_FIXED = "glibc.malloc.mmap_threshold=1048576"


class PeakRSS:
    """Samples this process's RSS on a thread; `mark(name)` closes a phase and records its peak."""

    def __init__(self, every: float = 0.02):
        import psutil

        self.proc, self.every = psutil.Process(), every
        self.peak, self.phases = 0, {}
        self._stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(self.every)

    def mark(self, name: str) -> None:
        self.peak = max(self.peak, self.proc.memory_info().rss)
        self.phases[name] = self.peak
        self.peak = self.proc.memory_info().rss


def make_model(out: Path, blocks: int, vace: int) -> None:
    import torch
    from transformers import T5Tokenizer, UMT5Config, UMT5EncoderModel

    from vdot_train.models.tiny import TinySpec, build_tiny_transformer

    spec = TinySpec(heads=12, head_dim=128, ffn_dim=8960, num_layers=blocks, text_dim=4096, freq_dim=256,
                    vace_layers=tuple(range(vace)))
    build_tiny_transformer("vace", spec, seed=0).save_pretrained(out / "transformer")
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [(c, -float(i)) for i, c in enumerate("▁abcdefghij")]
    torch.manual_seed(0)
    UMT5EncoderModel(UMT5Config(vocab_size=len(vocab), d_model=4096, d_kv=8, d_ff=64, num_layers=1, num_heads=2,
                                relative_attention_num_buckets=8)).save_pretrained(out / "text_encoder")
    T5Tokenizer(vocab=vocab, extra_ids=0).save_pretrained(out / "tokenizer")


def config(model: str, out: str, args, distributed: bool):
    from uvc_data.configurable import apply_overrides
    from vdot_train.recipes import get_recipe

    cfg = get_recipe("tiny_cpu")
    cfg.model.path, cfg.model.init_tiny, cfg.run.out_dir = model, False, out
    sets = [f"data.num_frames={args.frames}", f"data.height={args.size}", f"data.width={args.size}",
            f"disc.blocks={list(range(min(3, args.blocks)))}", "disc.reg_dim=512", "disc.attn_heads=8",
            f"schedule.dfake_gen_update_ratio={args.ratio}", "run.ckpt_every=2", "run.log_every=0",
            "run.gradient_checkpointing=true", "loss.otd.iters=60", f"distributed={str(distributed).lower()}",
            f"fsdp_wrap={args.wrap}", f"fsdp_min_params={args.min_params}"]
    return apply_overrides(cfg, sets)


def worker(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    rss = PeakRSS()
    from uvc_data.testing.samples import synthetic_sample
    from vdot_train.trainer.build import build_vdot_trainer

    import diffusers  # noqa: F401  (imports count in the baseline)
    import torch.distributed as dist

    samples = [synthetic_sample(i, args.frames, (args.size, args.size)) for i in range(4)]
    rss.mark("baseline")
    tr = build_vdot_trainer(config(args.model, args.out, args, args.world > 1), samples, resume=False)
    rss.mark("build")
    t0 = time.perf_counter()
    recs = tr.fit(2)
    step_s = time.perf_counter() - t0
    rss.mark("step")
    del tr.nets, tr
    import gc

    gc.collect()
    tr2 = build_vdot_trainer(config(args.model, args.out, args, args.world > 1), samples)
    rss.mark("resume")
    rank = dist.get_rank() if dist.is_initialized() else 0
    res = {"rank": rank, "world": args.world, **{f"rss_{k}": v for k, v in rss.phases.items()},
           "step_seconds": step_s, "resumed_step": tr2.step,
           "params_per_network": sum(p.numel() for p in tr2.nets.generator.parameters()),
           "local_params_generator": sum(getattr(p, "to_local", lambda: p)().numel() for p in tr2.nets.generator.parameters()),
           "losses": [{k: v for k, v in r.items() if k.endswith("loss")} for r in recs]}
    Path(args.report).with_suffix(f".rank{rank}.json").write_text(json.dumps(res))
    if dist.is_initialized():
        dist.destroy_process_group()


def planner(model: str, args, world: int) -> dict:
    from vdot_train.scale.planner import plan

    pl = plan(config(model, "/tmp/x", args, world > 1), world, 1 << 40, device="cpu")
    return {"persistent": pl.persistent, "peak_phase": pl.peak_phase[1], "peak": pl.peak, "phase": pl.peak_phase[0]}


def run(args, world: int, model: str, tmp: Path) -> list[dict]:
    report = tmp / f"w{world}"
    cmd = [sys.executable, __file__, "--worker", "--model", model, "--out", str(tmp / f"run{world}"),
           "--report", str(report), "--blocks", str(args.blocks), "--vace", str(args.vace), "--frames",
           str(args.frames), "--size", str(args.size), "--ratio", str(args.ratio), "--threads", str(args.threads),
           "--world", str(world), "--wrap", args.wrap, "--min-params", str(args.min_params)]
    if world > 1:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(world), "--rdzv_backend",
               "c10d", "--rdzv_endpoint", "127.0.0.1:0", *cmd[1:]]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(args.threads)}
    if not args.glibc_dynamic_mmap:
        env["GLIBC_TUNABLES"] = MMAP_FIXED
    subprocess.run(cmd, check=True, env=env)
    if not args.keep_runs:  # each run's checkpoints are GBs (4 GiB at 2 + 1 blocks); the reports stay
        shutil.rmtree(tmp / f"run{world}", ignore_errors=True)
    return [json.loads(Path(f"{report}.rank{r}.json").read_text()) for r in range(world)]


def measure(args) -> dict:
    """Both runs and the planner's predictions (what main prints; the slow test asserts on it)."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(args.work or d)
        tmp.mkdir(parents=True, exist_ok=True)
        if not (tmp / "model" / "transformer" / "config.json").is_file():
            make_model(tmp / "model", args.blocks, args.vace)
        model = str(tmp / "model")
        single = run(args, 1, model, tmp)[0]
        sharded = run(args, args.world, model, tmp)
        return {"args": vars(args), "single": single, "sharded": sharded,
                "plan_single": planner(model, args, 1), "plan_sharded": planner(model, args, args.world),
                "load": os.getloadavg()}


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--blocks", type=int, default=2)
    ap.add_argument("--vace", type=int, default=1)
    ap.add_argument("--frames", type=int, default=5)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--ratio", type=int, default=1, help="schedule.dfake_gen_update_ratio (1: generator every step)")
    ap.add_argument("--world", type=int, default=2)
    ap.add_argument("--wrap", default="size", choices=["size", "block"], help="fsdp_wrap (vdot_train.scale.units)")
    ap.add_argument("--min-params", type=int, default=50_000_000,
                    help="fsdp_min_params (official 5e7 at 14B width; 4.5e6 is the same fraction of a 1.3B block)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--glibc-dynamic-mmap", action="store_true",
                    help="keep glibc's default (dynamic) mmap threshold: RSS then includes freed heap blocks")
    ap.add_argument("--keep-runs", action="store_true", help="keep each run's out dir (checkpoints) under --work")
    ap.add_argument("--worker", action="store_true")
    ap.add_argument("--model", default="")
    ap.add_argument("--out", default="")
    ap.add_argument("--report", default="")
    ap.add_argument("--work", default="", help="keep models and reports here (default: a temporary dir)")
    return ap


def main() -> None:
    args = parser().parse_args()
    if args.worker:
        return worker(args)
    out = measure(args)
    single, sharded = out["single"], out["sharded"]
    base = single["rss_baseline"]
    print(json.dumps(out, indent=1, default=str))
    print(f"\nparameters per network: {single['params_per_network'] / 1e6:.1f} M")
    for name, r in [("one process", single)] + [(f"rank {x['rank']} of {args.world}", x) for x in sharded]:
        print(f"{name:>14}: baseline {r['rss_baseline'] / GiB:.2f} GiB, peak build {r['rss_build'] / GiB:.2f}, "
              f"peak step {r['rss_step'] / GiB:.2f}, resume {r['rss_resume'] / GiB:.2f} GiB; step {r['step_seconds']:.1f} s")
    for x in sharded:
        print(f"rank {x['rank']}: peak step / one process = {x['rss_step'] / single['rss_step']:.2f} "
              f"(above baseline: {(x['rss_step'] - x['rss_baseline']) / (single['rss_step'] - base):.2f}); "
              f"build {x['rss_build'] / single['rss_build']:.2f}")
    for w, key, meas in ((1, "plan_single", single), (args.world, "plan_sharded", sharded[0])):
        pred, got = out[key]["peak"], meas["rss_step"] - meas["rss_baseline"]
        print(f"planner, world {w}: predicted {pred / GiB:.2f} GiB above baseline, measured {got / GiB:.2f} GiB "
              f"(ratio {pred / got:.2f})")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
