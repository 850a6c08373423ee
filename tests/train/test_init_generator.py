"""init.generator from a sharded (DCP) checkpoint of `uvc train`: the generator starts from its weights, read in one
DCP load (not one per tensor), and a checkpoint of another model is refused naming the setting."""
from __future__ import annotations

import pytest
import torch

from tests.train.test_trainer_vdot import tiny_cfg
from uvc_data.errors import ConfigError
from vdot_train.trainer.build import build_vdot_trainer


def test_generator_from_a_sharded_checkpoint(tiny_vace_dir, tiny_samples, tmp_path, monkeypatch):
    first = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path / "a", "run.log_every=0", "run.ckpt_every=2",
                                        "schedule.dfake_gen_update_ratio=1"), tiny_samples)
    first.fit(2)
    trained = {k: v.detach().clone() for k, v in first.nets.generator.state_dict().items()}
    teacher = {k: v.detach().clone() for k, v in first.nets.teacher.state_dict().items()}
    assert any(not torch.equal(trained[k], teacher[k]) for k in trained)  # training moved the generator

    import torch.distributed.checkpoint as dcp

    calls = []
    real = dcp.load
    monkeypatch.setattr(dcp, "load", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    second = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path / "b", "run.log_every=0",
                                         f"init.generator={tmp_path / 'a'}"), tiny_samples)
    got = second.nets.generator.state_dict()
    assert all(torch.equal(got[k], trained[k]) for k in trained)
    assert len(calls) == 1  # the whole network in one read
    assert all(torch.equal(v, teacher[k]) for k, v in second.nets.fake_score.state_dict().items())


def test_checkpoint_of_another_model_is_refused(tiny_vace_dir, tiny_t2v_dir, tiny_samples, tmp_path):
    other = build_vdot_trainer(tiny_cfg(tiny_t2v_dir, tmp_path / "t2v", "model.kind=t2v", "loss.gan=false",
                                        "run.log_every=0", "run.ckpt_every=1", "schedule.dfake_gen_update_ratio=1"),
                               tiny_samples)
    other.fit(1)
    with pytest.raises(ConfigError, match="init.generator"):
        build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path / "b", f"init.generator={tmp_path / 't2v'}"),
                           tiny_samples)
