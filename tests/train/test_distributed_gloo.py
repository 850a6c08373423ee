"""The sharded trainer under torchrun with gloo, world size 2 (CPU): built on the meta device and materialised per
rank from the files, a NaN on one rank makes both ranks skip the same update (a hang fails the test by its timeout),
DCP save + resume is exact, and the checkpoint reshards to one process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def _torchrun(*args: str, nproc: int = 2, timeout: float = 420) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc), "--master_port", "0",
           "--rdzv_backend", "c10d", "--rdzv_endpoint", "127.0.0.1:0", *args]
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"torchrun did not finish in {timeout} s (a rank blocked in a collective?):\n{e.stderr}")
    assert p.returncode == 0, p.stderr[-4000:]


@pytest.fixture(scope="module")
def gloo_run(tiny_vace_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("gloo")
    _torchrun(str(ROOT / "tests" / "train" / "dist_worker.py"), tiny_vace_dir, str(out))
    return out, [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


def test_sharded_from_birth_matches_one_process(gloo_run):
    _, ranks = gloo_run
    for r in ranks:
        assert r["world"] == 2 and r["fwd_err"] < 1e-5 and r["grad_err"] < 1e-5
        assert r["local_params"] <= 0.55 * r["total_params"]  # each rank holds about half the generator
    assert sum(r["local_params"] for r in ranks) == ranks[0]["total_params"]


def test_finer_units_match_one_process(gloo_run):
    """fsdp_wrap=size below the block (attention modules and linears as units) computes the same as one process."""
    _, ranks = gloo_run
    for r in ranks:
        assert r["fine_units"] > 2 * r["block_units"]  # well below one unit per block
        assert r["fine_fwd_err"] < 1e-5 and r["fine_grad_err"] < 1e-5


def test_nan_on_one_rank_skips_on_both(gloo_run):
    _, (r0, r1) = gloo_run
    for r in (r0, r1):
        skipped = [s for _, _, s in r["A"]]
        assert skipped == [0.0, 1.0, 0.0, 0.0]  # iteration 1 skipped on both ranks, training went on
        assert all(c is not None and c == c for _, c, s in r["A"] if not s)


def test_dcp_resume_is_exact(gloo_run):
    _, ranks = gloo_run
    for r in ranks:
        assert r["resumed_step"] == 2
        assert r["B"] == r["A"]  # losses of 2 + resume + 2 == 4 straight, on every rank
        assert r["weights_equal"]
        assert r["init_from_dcp_equal"]  # init.generator=<run A>: its step-4 weights, on both ranks


def test_reshard_two_ranks_to_one(gloo_run, tiny_vace_dir, tiny_samples):
    from safetensors.torch import load_file

    from tests.train.test_trainer_vdot import tiny_cfg
    from vdot_train.trainer.build import build_vdot_trainer

    out, _ = gloo_run
    full = load_file(out / "B_step2_generator.safetensors")
    ck = out / "B" / "checkpoints" / "step_0000002"
    cfg = tiny_cfg(tiny_vace_dir, out / "one", "schedule.dfake_gen_update_ratio=1", "run.ckpt_every=0")
    tr = build_vdot_trainer(cfg, tiny_samples, resume=False)
    tr.load(str(ck))
    assert tr.step == 2
    sd = tr.nets.generator.transformer.state_dict()
    assert sd.keys() == full.keys() and all(torch.equal(sd[k], full[k]) for k in full)
    assert tr.opt_g.state and all(torch.isfinite(s["exp_avg_sq"]).all() for s in tr.opt_g.state.values())
    saved = torch.load(ck / "state.pt", weights_only=True)
    assert saved["world"] == 2 and tr.data.samples.index == saved["data"]["source"]["index"] * 2  # same position
    rec = tr.train_step()  # training goes on in one process
    assert rec["step"] == 2 and rec["c/loss"] == rec["c/loss"]
