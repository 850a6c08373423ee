"""FSDP2 on CPU with gloo, world size 2: sharded denoiser matches the single-device one, and the VDOT trainer runs,
checkpoints (rank 0 writes full weights) and resumes under torchrun-style env vars."""
from __future__ import annotations

import json
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp

pytestmark = pytest.mark.slow  # two processes importing diffusers on 2 cores: ~1–2 minutes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, model_dir: str, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    import torch.distributed as dist

    from tests.train.conftest import make_sample
    from tests.train.test_trainer_vdot import tiny_cfg
    from vdot_train.distributed import init_from_env, parallelize
    from vdot_train.models.denoiser import Denoiser
    from vdot_train.trainer.build import build_vdot_trainer

    init_from_env("gloo")
    den, ref = Denoiser.from_dir(model_dir, "vace"), Denoiser.from_dir(model_dir, "vace")
    parallelize(den)
    g = torch.Generator().manual_seed(0)
    x, ctx, te = torch.randn(1, 12, 3, 8, 8, generator=g), torch.randn(1, 28, 3, 8, 8, generator=g), torch.randn(1, 16, 32, generator=g)
    a = den(x, torch.tensor([500.0]), te, ctx, return_features=(2,))
    b = ref(x, torch.tensor([500.0]), te, ctx, return_features=(2,))
    fwd_err = max(float((a.velocity - b.velocity).abs().max()), float((a.features[0] - b.features[0]).abs().max()))

    samples = [make_sample(i) for i in range(4)]
    over = ("distributed=true", "schedule.dfake_gen_update_ratio=1", "run.ckpt_every=2", "run.log_every=1")
    tr = build_vdot_trainer(tiny_cfg(model_dir, out, *over), samples)
    recs = tr.fit(2)
    dist.barrier()
    tr2 = build_vdot_trainer(tiny_cfg(model_dir, out, *over), samples)
    resumed_step = tr2.step
    recs += tr2.fit(3)
    with open(f"{out}/rank{rank}.json", "w") as f:
        json.dump({"fwd_err": fwd_err, "resumed_step": resumed_step,
                   "losses": [r.get("g/loss") for r in recs], "critic": [r["c/loss"] for r in recs]}, f)
    dist.destroy_process_group()


def test_fsdp_gloo_world_size_2(tiny_vace_dir, tmp_path):
    mp.spawn(_worker, args=(2, _free_port(), tiny_vace_dir, str(tmp_path)), nprocs=2)
    r0, r1 = (json.loads((tmp_path / f"rank{i}.json").read_text()) for i in range(2))
    assert r0["fwd_err"] < 1e-5 and r1["fwd_err"] < 1e-5
    assert r0["resumed_step"] == r1["resumed_step"] == 2
    assert len(r0["losses"]) == 3 and all(v is not None for v in r0["losses"])
    assert r0["critic"] != r1["critic"]  # ranks see different samples and noise
    ck = tmp_path / "checkpoints"
    assert (ck / "latest").read_text() == "step_0000003"
    from safetensors.torch import load_file

    from vdot_train.models.denoiser import Denoiser

    den = Denoiser.from_dir(tiny_vace_dir, "vace")
    den.transformer.load_state_dict(load_file(ck / "step_0000003" / "generator.safetensors"))
    assert len(json.loads((tmp_path / "log.jsonl").read_text().splitlines()[0])) > 3
