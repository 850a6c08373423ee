"""Teacher flow-matching training from scratch on a tiny VACE model: the loss falls, resume is exact, the exported
dir loads back as a teacher."""
from __future__ import annotations

import numpy as np
import torch

from uvc_data.configurable import apply_overrides
from vdot_train.models.denoiser import Denoiser
from vdot_train.recipes import get_recipe
from vdot_train.trainer.pretrain import FlowMatchingTrainer


def cfg_for(tmp_path, *over):
    cfg = get_recipe("teacher_tiny_cpu", "pretrain")
    cfg.model.path = str(tmp_path / "teacher")  # built by init_tiny on first use
    cfg.run.out_dir = str(tmp_path / "run")
    return apply_overrides(cfg, ["run.log_every=0", "run.ckpt_every=0", *over])


def test_pretrain_loss_falls_and_exports(tmp_path, tiny_samples):
    tr = FlowMatchingTrainer(cfg_for(tmp_path, "model.kind=t2v", "lr=0.003"), tiny_samples)
    recs = tr.fit(40)
    first, last = np.mean([r["loss"] for r in recs[:8]]), np.mean([r["loss"] for r in recs[-8:]])
    assert last < 0.7 * first, (first, last)
    out = tr.export_model_dir()
    den = Denoiser.from_dir(out, "t2v")
    assert torch.equal(den.transformer.proj_out.weight, tr.model.transformer.proj_out.weight)
    assert (out / "text_encoder" / "config.json").is_file() and (out / "tokenizer").is_dir()


def test_pretrain_resume_is_exact(tmp_path, tiny_samples):
    straight = FlowMatchingTrainer(cfg_for(tmp_path / "a"), tiny_samples).fit(4)
    a = FlowMatchingTrainer(cfg_for(tmp_path / "b", "run.ckpt_every=2"), tiny_samples)
    part1 = a.fit(2)
    b = FlowMatchingTrainer(cfg_for(tmp_path / "b", "run.ckpt_every=2"), tiny_samples)
    assert b.step == 2
    part2 = b.fit(4)
    assert [r["loss"] for r in part1 + part2] == [r["loss"] for r in straight]
