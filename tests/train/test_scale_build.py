"""The sharded-from-birth build in one process: a bf16 teacher keeps diffusers' fp32 modules (as from_pretrained
does) and equals the teacher loaded by diffusers; a wrong-size weight file is refused naming what does not fit."""
from __future__ import annotations

import pytest
import torch

from uvc_data.errors import ConfigError
from vdot_train.models.denoiser import Denoiser
from vdot_train.scale.materialise import materialise
from vdot_train.scale.meta import denoiser_on_meta
from vdot_train.scale.weights import StateDictSource
from vdot_train.trainer.build import build_vdot_trainer

from tests.train.test_trainer_vdot import tiny_cfg


def test_bf16_teacher_matches_diffusers_low_precision_load(tiny_vace_dir, tiny_samples, tmp_path):
    tr = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path, "model.teacher_dtype=bfloat16",
                                     "model.text_encoder_device=cpu"), tiny_samples)
    ref = Denoiser.from_dir(tiny_vace_dir, "vace", torch.bfloat16)  # diffusers' own low-precision load
    ours = dict(tr.nets.teacher.transformer.named_parameters())
    for name, p in ref.transformer.named_parameters():
        assert ours[name].dtype == p.dtype, name  # rope/time embedder/norms/modulation stay fp32, the rest bf16
        assert torch.equal(ours[name], p), name
    assert {p.dtype for p in ours.values()} == {torch.bfloat16, torch.float32}
    assert all(p.dtype == torch.float32 for p in tr.nets.generator.parameters())  # fp32 master weights
    assert tr.data.builder.text_encoder.device.type == "cpu"
    rec = tr.train_step()  # an iteration with the bf16 teacher as the real score
    assert rec["c/skipped"] == 0.0 and torch.isfinite(torch.tensor(rec["c/loss"]))


def test_wrong_size_weights_are_refused(tiny_vace_dir):
    den = denoiser_on_meta(tiny_vace_dir, "vace")
    state = {k: torch.zeros(1) for k, _ in den.transformer.named_parameters()}  # every key, every shape wrong
    with pytest.raises(ConfigError, match="do not fit"):
        materialise(den, StateDictSource(state), "cpu", prefix="transformer.")
