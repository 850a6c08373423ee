"""Peak memory of one critic GAN step (GAN-D) by how the fake and real clips go through the fake score: one forward
of the concatenated batch (the trainer's `joint_logits`, the official critic), two forwards back-propagated together
(the trainer before), or a single clip — under torchrun + gloo (each rank's figure) or in one process.

Two forwards into one backward make autograd hold every parameter's first gradient contribution, unsharded, until
the second graph reaches it, so under FSDP each rank holds the network's whole gradient; one process holds it anyway.
The network is benchmarks/bench_sharded_train.py's (1.3B width); its model dir is reused from --work.

    .venv/bin/python benchmarks/bench_critic_gan_memory.py --world 2 --work /tmp/bst
    .venv/bin/python benchmarks/bench_critic_gan_memory.py --world 1 --work /tmp/bst
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_sharded_train as bst  # noqa: E402

GiB = 1 << 30
MODES = ("joint", "two", "one")


def worker(args) -> None:
    import gc

    import torch
    import torch.distributed as dist

    from uvc_data.configurable import apply_overrides
    from uvc_data.testing.samples import synthetic_sample
    from vdot_train.flow import add_noise
    from vdot_train.losses.gan import relativistic_d
    from vdot_train.trainer.build import build_vdot_trainer

    torch.set_num_threads(args.threads)
    rss = bst.PeakRSS(every=0.003)
    cfg = apply_overrides(bst.config(args.model, args.out, args, args.world > 1), ["run.ckpt_every=0"])
    tr = build_vdot_trainer(cfg, [synthetic_sample(i, args.frames, (args.size, args.size)) for i in range(4)],
                            resume=False)
    rank = dist.get_rank() if dist.is_initialized() else 0
    for mode in [*MODES, *MODES]:  # the first round allocates lazily; the second is reported
        tr.step = 1  # odd: the critic's GAN step
        tr._seed_iteration()
        batch = tr.data.next_batch()
        with torch.no_grad():
            x0_hat, _ = tr.generate(batch, grad=False)
        t, noise = tr._draw_t(x0_hat.shape[0], gan=True), tr._noise_like(x0_hat)
        x_fake, x_real = add_noise(x0_hat, noise, t), add_noise(tr._real(batch), noise, t)
        gc.collect()
        rss.mark("before")
        start = rss.proc.memory_info().rss
        if mode == "joint":
            d_fake, d_real = tr.joint_logits([x_fake, x_real], t, batch)
            relativistic_d(d_real, d_fake).backward()
        elif mode == "two":
            relativistic_d(tr.logits(x_real, t, batch), tr.logits(x_fake, t, batch)).backward()
        else:
            tr.logits(x_fake, t, batch).float().mean().backward()
        time.sleep(0.05)
        rss.mark(mode)
        tr.opt_c.zero_grad(set_to_none=True)
        if rank == 0:
            print(f"world {args.world} {mode:>5}: peak +{(rss.phases[mode] - start) / GiB:.2f} GiB over the step's "
                  "start", flush=True)
    if dist.is_initialized():
        dist.destroy_process_group()


def main() -> None:
    ap = bst.parser()
    ap.description = __doc__
    ap.set_defaults(min_params=4_500_000)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    tmp = Path(args.work)
    if not (tmp / "model" / "transformer" / "config.json").is_file():
        bst.make_model(tmp / "model", args.blocks, args.vace)
    cmd = [__file__, "--worker", "--model", str(tmp / "model"), "--out", str(tmp / "critic_gan_run"), "--blocks",
           str(args.blocks), "--vace", str(args.vace), "--frames", str(args.frames), "--size", str(args.size),
           "--world", str(args.world), "--threads", str(args.threads), "--min-params", str(args.min_params)]
    if args.world > 1:
        cmd = ["-m", "torch.distributed.run", "--nproc_per_node", str(args.world), "--rdzv_backend", "c10d",
               "--rdzv_endpoint", "127.0.0.1:0", *cmd]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(args.threads),
           "GLIBC_TUNABLES": bst.MMAP_FIXED}
    subprocess.run([sys.executable, *cmd], check=True, env=env)


if __name__ == "__main__":
    main()
