"""Data-parallel teacher pretraining under torchrun with gloo, world size 2 (CPU): the replicas stay equal (the
gradients are averaged), each rank trains on its own share of the samples, a NaN on one rank makes both skip the same
step (a hang fails the test by its timeout), and a resume from the checkpoint continues exactly."""
from __future__ import annotations

import json

import pytest

from tests.train.test_distributed_gloo import ROOT, _torchrun


@pytest.fixture(scope="module")
def ddp_run(tiny_vace_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    _torchrun(str(ROOT / "tests" / "train" / "pretrain_ddp_worker.py"), tiny_vace_dir, str(out), timeout=300)
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


def test_replicas_stay_equal_on_their_own_samples(ddp_run):
    r0, r1 = ddp_run
    assert r0["world"] == r1["world"] == 2
    assert r0["checksum"] == r1["checksum"] and r0["checksum_b"] == r1["checksum_b"]
    assert not set(r0["seen"]) & set(r1["seen"])  # 4 steps × batch 1 of an 8-sample epoch: disjoint shares
    assert len(r0["seen"]) == len(r1["seen"]) == 4
    assert [x for x, _ in r0["A"]] != [x for x, _ in r1["A"]]  # own samples, own noise


def test_nan_on_one_rank_skips_on_both(ddp_run):
    for r in ddp_run:
        assert [s for _, s in r["A"]] == [0.0, 1.0, 0.0, 0.0]


def test_resume_is_exact(ddp_run):
    for r in ddp_run:
        assert r["resumed_at"] == 2
        assert r["B"] == r["A"]
    assert ddp_run[0]["checksum_b"] == ddp_run[0]["checksum"]


def test_torchrun_without_distributed_is_refused(monkeypatch, tmp_path, tiny_samples):
    from uvc_data.errors import ConfigError
    from vdot_train.trainer.pretrain import FlowMatchingTrainer
    from tests.train.test_trainer_pretrain import cfg_for

    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match="distributed=true"):
        FlowMatchingTrainer(cfg_for(tmp_path), tiny_samples)
