"""One rank of the data-parallel teacher pretraining test, launched by torchrun (tests/train/test_pretrain_ddp.py).

    torchrun --nproc_per_node=2 tests/train/pretrain_ddp_worker.py MODEL_DIR OUT_DIR

Run A trains 4 steps straight; run B trains 2, is rebuilt (resumes from rank 0's checkpoint) and trains 2 more; a NaN
loss is injected on rank 1 only at step 1 of both runs. Each rank writes OUT_DIR/rank<r>.json: per-step losses and
skip flags of both runs, the keys of the samples it trained on, and a checksum of its final weights.
"""
from __future__ import annotations

import json
import sys

import torch


def main(model_dir: str, out: str) -> None:
    torch.set_num_threads(1)
    import torch.distributed as dist

    from tests.train.conftest import make_sample
    from uvc_data.configurable import apply_overrides
    from vdot_train.recipes import get_recipe
    from vdot_train.trainer.pretrain import FlowMatchingTrainer

    samples = [make_sample(i) for i in range(8)]

    def build(name: str, *extra: str) -> FlowMatchingTrainer:
        cfg = get_recipe("teacher_tiny_cpu", "pretrain")
        cfg = apply_overrides(cfg, [f"model.path={model_dir}", "model.init_tiny=false", f"run.out_dir={out}/{name}",
                                    "distributed=true", "run.log_every=1", "run.ckpt_every=0", *extra])
        tr = FlowMatchingTrainer(cfg, samples)
        rank, loss, build_batch = dist.get_rank(), tr.loss, tr.data.builder.from_samples
        tr.seen = []

        def poisoned():  # a NaN on rank 1 only, at step 1
            value = loss()
            return value * float("nan") if rank == 1 and tr.step == 1 else value

        def recording(batch, rng):
            tr.seen += [s.key for s in batch]
            return build_batch(batch, rng)

        tr.loss, tr.data.builder.from_samples = poisoned, recording
        return tr

    a = build("A")
    recs_a = a.fit(4)
    b1 = build("B", "run.ckpt_every=2")
    recs_b = b1.fit(2)
    b2 = build("B", "run.ckpt_every=2")
    resumed_at = b2.step
    recs_b += b2.fit(4)
    checksum = float(sum(p.detach().double().sum() for p in a.model.parameters()))
    checksum_b = float(sum(p.detach().double().sum() for p in b2.model.parameters()))
    rank = dist.get_rank()
    with open(f"{out}/rank{rank}.json", "w") as f:
        json.dump({"world": dist.get_world_size(), "A": [[r["loss"], r["skipped"]] for r in recs_a],
                   "B": [[r["loss"], r["skipped"]] for r in recs_b], "resumed_at": resumed_at, "seen": a.seen,
                   "checksum": checksum, "checksum_b": checksum_b}, f)


if __name__ == "__main__":
    main(*sys.argv[1:3])
