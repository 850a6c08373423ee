"""4-step sampling from VCUs with the tiny VACE model (UniPC / Euler), the official schedule, loading a student
checkpoint into a bundle."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from uvc_data.errors import BadInputError
from uvc_data.vcu import build_vcu
from vdot_train.flow import inference_timesteps
from vdot_train.models.bundle import ModelConfig, load_bundle
from vdot_train.models.codecs import CodecConfig
from vdot_train.sampling import generate, make_scheduler, model_timesteps, set_official_timesteps

from .conftest import make_sample


def bundle_cfg(path, kind="vace"):
    return ModelConfig(kind=kind, path=path, text_max_length=16, codec=CodecConfig(kind="pixel", patch=2))


@pytest.mark.parametrize("name", ["unipc", "euler"])
def test_schedule_is_the_official_one(name):
    s = make_scheduler(name, 16.0)
    set_official_timesteps(s, 4)
    t = model_timesteps(s)
    assert torch.allclose(t, inference_timesteps(4, 16.0), atol=0.01)
    assert torch.allclose(t, torch.tensor([999.94, 979.51, 941.07, 841.93]), atol=0.01)


def test_generate_videos_from_vcus(tiny_vace_dir):
    bundle = load_bundle(bundle_cfg(tiny_vace_dir))
    s = make_sample(1, refs=True)
    vcus = [build_vcu(task, s.prompt, s.frames, s.conditions) for task in ("depth", "r2v", "extension")]
    vids = generate(bundle, vcus, steps=4, shift=16.0, guidance=1.0, seed=3)
    assert [v.shape for v in vids] == [(3, 16, 16, 3)] * 3 and all(v.dtype == np.uint8 for v in vids)
    again = generate(bundle, vcus[:1], steps=4, shift=16.0, guidance=1.0, seed=3)
    assert np.array_equal(vids[0], again[0])
    other_seed = generate(bundle, vcus[:1], steps=4, shift=16.0, guidance=1.0, seed=4)
    assert not np.array_equal(vids[0], other_seed[0])
    cfg_vid = generate(bundle, vcus[:1], steps=2, shift=5.0, guidance=3.0, seed=3, scheduler="euler")
    assert cfg_vid[0].shape == (3, 16, 16, 3)


def test_t2v_bundle_refuses_conditioned_tasks(tiny_t2v_dir):
    bundle = load_bundle(bundle_cfg(tiny_t2v_dir, "t2v"))
    s = make_sample(0)
    assert generate(bundle, [build_vcu("t2v", "a dog", None, {}, num_frames=3, size=(16, 16))])[0].shape == (3, 16, 16, 3)
    with pytest.raises(BadInputError, match="VACE"):
        generate(bundle, [build_vcu("depth", s.prompt, s.frames, s.conditions)])


def test_bundle_loads_student_weights(tiny_vace_dir, tmp_path):
    from safetensors.torch import save_file

    base = load_bundle(bundle_cfg(tiny_vace_dir))
    sd = {k: v + 0.01 for k, v in base.denoiser.transformer.state_dict().items()}
    save_file(sd, tmp_path / "student.safetensors")
    student = load_bundle(bundle_cfg(tiny_vace_dir), weights=str(tmp_path / "student.safetensors"))
    assert torch.allclose(student.denoiser.transformer.proj_out.bias, base.denoiser.transformer.proj_out.bias + 0.01)
