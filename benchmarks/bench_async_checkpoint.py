"""Host memory and time of a checkpoint, synchronous vs `run.async_checkpoint=true`, for the sharded trainer at the
real Wan 1.3B width on the CPU (torchrun + gloo), against the planner's staging estimate.

The same network and trainer as benchmarks/bench_sharded_train.py (its model dir is reused when --work holds one).
Each rank trains one iteration (so Adam's moments exist), then saves; its RSS is sampled every 3 ms from just
before the save until the checkpoint is on disk.

    .venv/bin/python benchmarks/bench_async_checkpoint.py --blocks 2 --vace 1 --world 2 --min-params 4500000 --work /tmp/bst
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_sharded_train as bst  # noqa: E402  (the network, the trainer's config, the RSS sampler)

GiB = 1 << 30


def worker(args) -> None:
    import gc

    import torch
    import torch.distributed as dist

    from uvc_data.configurable import apply_overrides
    from uvc_data.testing.samples import synthetic_sample
    from vdot_train.trainer.build import build_vdot_trainer

    torch.set_num_threads(args.threads)
    rss = bst.PeakRSS(every=0.003)
    cfg = apply_overrides(bst.config(args.model, args.out, args, args.world > 1),
                          [f"run.async_checkpoint={str(args.mode == 'async').lower()}", "run.ckpt_every=0"])
    tr = build_vdot_trainer(cfg, [synthetic_sample(i, args.frames, (args.size, args.size)) for i in range(4)],
                            resume=False)
    tr.fit(1)
    gc.collect()
    rss.mark("training")  # closes the training's peak; the save's phases start from here
    before = rss.proc.memory_info().rss
    t0 = time.perf_counter()
    tr.save()
    returned = time.perf_counter() - t0
    rss.mark("until_return")
    tr.checkpointer.wait()
    done = time.perf_counter() - t0
    rss.mark("until_written")
    rank = dist.get_rank() if dist.is_initialized() else 0
    saved = sum(getattr(p, "to_local", lambda: p)().numel() * 4 for m in (tr.nets.generator, tr.nets.fake_score,
                                                                          tr.nets.heads) for p in m.parameters())
    res = {"rank": rank, "mode": args.mode, "rss_before": before,
           "peak_until_return": rss.phases["until_return"], "peak_until_written": rss.phases["until_written"],
           "save_returned_s": returned, "written_s": done, "local_weights_bytes": saved}
    Path(args.report).with_suffix(f".{args.mode}.rank{rank}.json").write_text(json.dumps(res))
    if dist.is_initialized():
        dist.destroy_process_group()


def run(args, mode: str, model: str, tmp: Path) -> list[dict]:
    report = tmp / "async_ckpt"
    cmd = ["-m", "torch.distributed.run", "--nproc_per_node", str(args.world), "--rdzv_backend", "c10d",
           "--rdzv_endpoint", "127.0.0.1:0", __file__, "--worker", "--mode", mode, "--model", model,
           "--out", str(tmp / f"async_ckpt_{mode}"), "--report", str(report), "--blocks", str(args.blocks),
           "--vace", str(args.vace), "--frames", str(args.frames), "--size", str(args.size), "--world",
           str(args.world), "--threads", str(args.threads), "--min-params", str(args.min_params)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(args.threads),
           "GLIBC_TUNABLES": bst.MMAP_FIXED}
    subprocess.run([sys.executable, *cmd], check=True, env=env)
    subprocess.run(["rm", "-rf", str(tmp / f"async_ckpt_{mode}")], check=True)
    return [json.loads(Path(f"{report}.{mode}.rank{r}.json").read_text()) for r in range(args.world)]


def main() -> None:
    ap = bst.parser()
    ap.description = __doc__
    ap.add_argument("--mode", default="sync", choices=["sync", "async"])
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    from uvc_data.configurable import apply_overrides
    from vdot_train.scale.planner import plan

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(args.work or d)
        tmp.mkdir(parents=True, exist_ok=True)
        if not (tmp / "model" / "transformer" / "config.json").is_file():
            bst.make_model(tmp / "model", args.blocks, args.vace)
        model = str(tmp / "model")
        results = {mode: run(args, mode, model, tmp) for mode in ("sync", "async")}
        cfg = apply_overrides(bst.config(model, "/tmp/x", args, True), ["run.async_checkpoint=true"])
        staged = plan(cfg, args.world, 1 << 40, device="cpu").host["async checkpoint staging (a copy of the saved shards)"]
    print(json.dumps(results, indent=1))
    for mode, ranks in results.items():
        for r in ranks:
            print(f"{mode:>5} rank {r['rank']}: save() returned after {r['save_returned_s']:.1f} s, on disk after "
                  f"{r['written_s']:.1f} s; host peak above the pre-save RSS "
                  f"{(max(r['peak_until_return'], r['peak_until_written']) - r['rss_before']) / GiB:.2f} GiB")
    print(f"planner: async staging {staged / GiB:.2f} GiB per rank (local weights "
          f"{results['async'][0]['local_weights_bytes'] / GiB:.2f} GiB + two Adam moments)")


if __name__ == "__main__":
    main()
