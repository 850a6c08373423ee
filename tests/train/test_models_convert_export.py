"""Original Wan/VACE ↔ diffusers key conversion (checked against diffusers' own single-file converter and by
identical outputs), official `.pt` loading, and export of a student to a WanVACEPipeline that runs 4 steps."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from uvc_data.errors import BadInputError, MissingWeightsError
from vdot_train.models.convert import diffusers_to_original, load_original_checkpoint, original_to_diffusers
from vdot_train.models.tiny import TinySpec, build_tiny_transformer, save_tiny_model_dir


@pytest.mark.parametrize("kind", ["t2v", "vace"])
def test_round_trip_gives_identical_outputs(kind):
    src = build_tiny_transformer(kind, seed=1)
    orig = diffusers_to_original(src.state_dict())
    assert "head.head.weight" in orig and "blocks.0.self_attn.q.weight" in orig and "blocks.0.norm3.weight" in orig
    assert not any(k.startswith("condition_embedder") for k in orig)
    if kind == "vace":
        assert "vace_blocks.0.before_proj.weight" in orig and "vace_blocks.1.after_proj.bias" in orig
    dst = build_tiny_transformer(kind, seed=2)
    dst.load_state_dict(original_to_diffusers(orig))
    x = torch.randn(1, 12, 2, 8, 8)
    kw = dict(hidden_states=x, timestep=torch.tensor([500.0]), encoder_hidden_states=torch.randn(1, 16, 32),
              return_dict=False)
    if kind == "vace":
        kw["control_hidden_states"] = torch.randn(1, 28, 2, 8, 8)
    with torch.no_grad():
        assert torch.equal(src(**kw)[0], dst(**kw)[0])


def test_matches_diffusers_single_file_converter():
    from diffusers.loaders.single_file_utils import convert_wan_transformer_to_diffusers

    sd = build_tiny_transformer("vace").state_dict()
    orig = diffusers_to_original(sd)
    ours, theirs = original_to_diffusers(orig), convert_wan_transformer_to_diffusers(dict(orig))
    assert set(ours) == set(theirs) == set(sd)
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)


def test_official_pt_with_generator_key(tmp_path, tiny_vace_dir):
    from vdot_train.models.denoiser import Denoiser
    from vdot_train.trainer.checkpoint import load_student_weights

    den = Denoiser.from_dir(tiny_vace_dir, "vace")
    sd = {k: v + 1.0 for k, v in den.transformer.state_dict().items()}
    # Self-Forcing-style wrapper prefix "model." as in the official generator state dict
    torch.save({"generator": {f"model.{k}": v for k, v in diffusers_to_original(sd).items()}}, tmp_path / "vdot.pt")
    load_student_weights(den, tmp_path / "vdot.pt")
    assert torch.equal(den.transformer.proj_out.weight, sd["proj_out.weight"])
    torch.save({"other": 1}, tmp_path / "bad.pt")
    with pytest.raises(BadInputError, match="generator"):
        load_original_checkpoint(tmp_path / "bad.pt")


def test_export_runs_in_wan_vace_pipeline(tmp_path):
    from diffusers import WanVACEPipeline
    from safetensors.torch import save_file

    from vdot_train.models.export import export_vace_pipeline

    spec = TinySpec(in_channels=4, mask_channels=64)  # tiny Wan VAE: z_dim 4, stride 4×8×8
    teacher = save_tiny_model_dir(tmp_path / "teacher", "vace", spec, with_vae=True)
    student_sd = {k: v * 0.9 for k, v in build_tiny_transformer("vace", spec).state_dict().items()}
    save_file(student_sd, tmp_path / "student.safetensors")
    out = export_vace_pipeline(tmp_path / "student.safetensors", teacher, tmp_path / "export", shift=16.0)
    pipe = WanVACEPipeline.from_pretrained(out)
    assert pipe.scheduler.config.flow_shift == 16.0
    assert torch.equal(pipe.transformer.proj_out.weight, student_sd["proj_out.weight"])
    video = pipe(prompt="a red car", num_frames=9, height=32, width=32, num_inference_steps=4, guidance_scale=1.0,
                 generator=torch.Generator().manual_seed(0), output_type="np", max_sequence_length=16).frames[0]
    assert video.shape == (9, 32, 32, 3) and np.isfinite(video).all()
    # written shard by shard: several shards + index load the same weights
    out2 = export_vace_pipeline(tmp_path / "student.safetensors", teacher, tmp_path / "export2", max_shard_bytes=20_000)
    files = sorted(p.name for p in (out2 / "transformer").glob("*.safetensors"))
    assert len(files) > 2 and files[0].endswith(f"-of-{len(files):05d}.safetensors")
    assert (out2 / "transformer" / "diffusion_pytorch_model.safetensors.index.json").is_file()
    pipe2 = WanVACEPipeline.from_pretrained(out2)
    assert all(torch.equal(a, b) for a, b in zip(pipe.transformer.state_dict().values(),
                                                 pipe2.transformer.state_dict().values()))
    with pytest.raises(MissingWeightsError, match="VAE"):
        export_vace_pipeline(tmp_path / "student.safetensors", save_tiny_model_dir(tmp_path / "novae", "vace"),
                             tmp_path / "x")
