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


def test_pretrain_schedule_ema_resume_and_export(tmp_path, tiny_samples):
    """Warm-up + cosine lr, an EMA of the weights that resumes exactly, and an exported teacher that is the EMA."""
    sets = ["warmup_steps=2", "lr_schedule=cosine", "min_lr_ratio=0.1", "run.max_steps=6", "run.ema_decay=0.5"]
    straight = FlowMatchingTrainer(cfg_for(tmp_path / "a", *sets), tiny_samples)
    factors = [straight._lr_factor(s) for s in range(7)]
    assert factors[:2] == [0.5, 1.0] and abs(factors[4] - 0.55) < 1e-9 and abs(factors[6] - 0.1) < 1e-9
    recs = straight.fit()
    assert straight.opt.param_groups[0]["lr"] == 3e-4 * 0.1
    a = FlowMatchingTrainer(cfg_for(tmp_path / "b", *sets, "run.ckpt_every=3"), tiny_samples)
    part1 = a.fit(3)
    b = FlowMatchingTrainer(cfg_for(tmp_path / "b", *sets, "run.ckpt_every=3"), tiny_samples)
    assert b.step == 3
    part2 = b.fit()
    assert [r["loss"] for r in part1 + part2] == [r["loss"] for r in recs]
    for k, v in straight.ema.state_dict().items():
        assert torch.equal(v, b.ema.state_dict()[k]), k
    ema = straight.ema.state_dict()["proj_out.weight"]
    assert not torch.equal(ema, straight.model.transformer.proj_out.weight)  # the EMA lags the weights
    out = straight.export_model_dir()
    den = Denoiser.from_dir(out, "vace")
    assert torch.equal(den.transformer.proj_out.weight, ema)
    assert not torch.equal(straight.model.transformer.proj_out.weight, ema)  # training weights restored after export


def test_known_weight_weights_the_given_positions(tmp_path, tiny_samples):
    """known_weight scales the loss of latent positions whose folded mask is 0 (given); 1 is the plain mean."""
    tr = FlowMatchingTrainer(cfg_for(tmp_path, "known_weight=4"), tiny_samples)
    c = 12  # latent channels of the pixel codec (patch 2)
    ctx = torch.zeros(1, 2 * c + 4, 2, 3, 3)
    ctx[:, 2 * c:, 1] = 1.0  # frame 1 to generate, frame 0 given
    ctx[:, 2 * c:2 * c + 2, 0, 0, 0] = 1.0  # half of one position's pixels to generate
    w = tr.loss_weights(ctx, torch.Size([1, c, 2, 3, 3]))
    assert w.shape == (1, 1, 2, 3, 3)
    assert torch.all(w[:, :, 1] == 1.0) and w[0, 0, 0, 0, 0] == 2.5 and w[0, 0, 0, 1, 1] == 4.0
    plain = FlowMatchingTrainer(cfg_for(tmp_path / "plain"), tiny_samples)
    assert plain.loss_weights(ctx, torch.Size([1, c, 2, 3, 3])) is None
    # same draws, different weighting: extension batches hold given positions (frame 0), so the losses differ
    ext = ['data.tasks=["extension"]']
    la = [r["loss"] for r in FlowMatchingTrainer(cfg_for(tmp_path / "kw", "known_weight=4", *ext), tiny_samples).fit(2)]
    lb = [r["loss"] for r in FlowMatchingTrainer(cfg_for(tmp_path / "plain2", *ext), tiny_samples).fit(2)]
    assert la[0] != lb[0]
