"""One rank of the distributed trainer tests, launched by torchrun (tests/train/test_distributed_gloo.py).

    torchrun --nproc_per_node=2 tests/train/dist_worker.py MODEL_DIR OUT_DIR

Rank 1 sees a NaN critic loss at iteration 1 (injected), the other rank a finite one. Run A trains 4 iterations
straight; run B trains 2, is rebuilt (resumes from its sharded checkpoint) and trains 2 more. Each rank writes
OUT_DIR/rank<r>.json: per-iteration losses and skip flags of both runs, its local parameter share, the forward error
of the sharded generator against a single-process copy, and (rank 0) the full generator weights and Adam moments at
step 2, for the reshard check.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch


def main(model_dir: str, out: str) -> None:
    torch.set_num_threads(1)
    import torch.distributed as dist
    from safetensors.torch import save_file

    from tests.train.conftest import make_sample
    from tests.train.test_trainer_vdot import tiny_cfg
    from vdot_train.models.denoiser import Denoiser
    from vdot_train.trainer.build import build_vdot_trainer

    samples = [make_sample(i) for i in range(6)]
    over = ("distributed=true", "schedule.dfake_gen_update_ratio=1", "run.ckpt_every=2", "run.log_every=1")

    def build(name: str, *extra: str):
        tr = build_vdot_trainer(tiny_cfg(model_dir, f"{out}/{name}", *over, *extra), samples)
        rank = dist.get_rank()
        critic_loss = tr.critic_loss

        def poisoned(batch):  # a NaN on rank 1 only, at iteration 1
            loss, stats = critic_loss(batch)
            return (loss * float("nan"), stats) if rank == 1 and tr.step == 1 else (loss, stats)

        tr.critic_loss = poisoned
        return tr

    a = build("A")
    rank, world = dist.get_rank(), dist.get_world_size()
    # the sharded generator computes what one process with the whole network computes
    ref = Denoiser.from_dir(model_dir, "vace")
    g = torch.Generator().manual_seed(0)
    x, ctx = torch.randn(1, 12, 3, 8, 8, generator=g), torch.randn(1, 28, 3, 8, 8, generator=g)
    te, t = torch.randn(1, 16, 32, generator=g), torch.tensor([500.0])

    def against_one_process(tr) -> tuple[float, float]:
        """Forward and gradient errors of tr's sharded generator against `ref` (gradients reduce-scattered, gathered
        here for the comparison)."""
        ref.zero_grad(set_to_none=True)
        with torch.no_grad():
            fwd = float((tr.nets.generator(x, t, te, ctx).velocity - ref(x, t, te, ctx).velocity).abs().max())
        (tr.nets.generator(x, t, te, ctx).velocity ** 2).mean().backward()
        (ref(x, t, te, ctx).velocity ** 2).mean().backward()
        ref_grads = {n: p.grad for n, p in ref.named_parameters()}
        grad = max(float((p.grad.full_tensor() - ref_grads[n]).abs().max())
                   for n, p in tr.nets.generator.named_parameters())
        tr.opt_g.zero_grad(set_to_none=True)
        return fwd, grad

    fwd_err, grad_err = against_one_process(a)
    # the official size-based policy at a threshold this tiny model reaches: attention modules, feed-forward and
    # embedding linears become units of their own inside each block
    from torch.distributed.fsdp import FSDPModule

    fine = build("F", "fsdp_min_params=256")
    fine_units = sum(isinstance(m, FSDPModule) for m in fine.nets.generator.modules())
    block_units = sum(isinstance(m, FSDPModule) for m in a.nets.generator.modules())
    fine_fwd_err, fine_grad_err = against_one_process(fine)
    del fine
    local = sum(p.to_local().numel() for p in a.nets.generator.parameters())
    total = sum(p.numel() for p in a.nets.generator.parameters())
    rec_a = a.fit(4)
    # a new run starting its generator from A's sharded checkpoint (one collective read into each rank's shards)
    g_init = build("G", f"init.generator={out}/A")
    init_equal = all(torch.equal(p.full_tensor(), q.full_tensor()) for p, q in
                     zip(a.nets.generator.parameters(), g_init.nets.generator.parameters()))
    del g_init
    b = build("B")
    rec_b = b.fit(2)
    # full weights at step 2, gathered here only for the test's comparison
    full_gen = {k: v.full_tensor() for k, v in b.nets.generator.transformer.state_dict().items()}
    st = b.opt_g.state[next(iter(b.opt_g.state))] if b.opt_g.state else {}
    if rank == 0:
        save_file({k: v.contiguous() for k, v in full_gen.items()}, f"{out}/B_step2_generator.safetensors")
    b2 = build("B")
    resumed = b2.step
    rec_b += b2.fit(4)
    res = {"rank": rank, "world": world, "fwd_err": fwd_err, "grad_err": grad_err,
           "fine_fwd_err": fine_fwd_err, "fine_grad_err": fine_grad_err, "fine_units": fine_units,
           "block_units": block_units, "local_params": local, "total_params": total,
           "resumed_step": resumed, "init_from_dcp_equal": init_equal, "adam_state_keys": sorted(st.keys()),
           "A": [[r.get("g/loss"), r["c/loss"] if "c/loss" in r else None, r["c/skipped"]] for r in rec_a],
           "B": [[r.get("g/loss"), r["c/loss"] if "c/loss" in r else None, r["c/skipped"]] for r in rec_b],
           "weights_equal": all(torch.equal(p.full_tensor(), q.full_tensor()) for p, q in
                                zip(a.nets.generator.parameters(), b2.nets.generator.parameters()))}
    Path(f"{out}/rank{rank}.json").write_text(json.dumps(res))
    dist.destroy_process_group()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main(sys.argv[1], sys.argv[2])
