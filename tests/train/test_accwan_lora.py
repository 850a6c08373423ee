"""AccWanInit from a step-distillation LoRA in the lora_down / lora_up / diff_b / diff layout (original Wan key names):
merged weights are W + (α/r)·U·D (+ bias and norm deltas), VACE-only weights stay the teacher's."""
from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from uvc_data.errors import BadInputError, ConfigError
from vdot_train.models.accwan import accwan_state, is_lora_state, merge_lora
from vdot_train.models.denoiser import Denoiser
from vdot_train.trainer.build import build_vdot_trainer

from tests.train.test_trainer_vdot import tiny_cfg

RANK, ALPHA = 4, 2.0
# original module → diffusers weight key (block N)
LINEARS = {"self_attn.q": "attn1.to_q", "self_attn.k": "attn1.to_k", "self_attn.v": "attn1.to_v",
           "self_attn.o": "attn1.to_out.0", "cross_attn.q": "attn2.to_q", "cross_attn.k": "attn2.to_k",
           "cross_attn.v": "attn2.to_v", "cross_attn.o": "attn2.to_out.0", "ffn.0": "ffn.net.0.proj",
           "ffn.2": "ffn.net.2"}
TOP = {"head.head": "proj_out", "text_embedding.0": "condition_embedder.text_embedder.linear_1",
       "time_embedding.0": "condition_embedder.time_embedder.linear_1"}


def make_lora(base: dict[str, torch.Tensor], num_blocks: int, seed: int = 0):
    """A LoRA file's tensors (prefixed diffusion_model.) and, for checking, the diffusers key each one changes."""
    g = torch.Generator().manual_seed(seed)
    lora, targets = {}, {}
    pairs = [(f"blocks.{i}.{o}", f"blocks.{i}.{d}") for i in range(num_blocks) for o, d in LINEARS.items()]
    pairs += list(TOP.items())
    for orig, diff in pairs:
        out_dim, in_dim = base[f"{diff}.weight"].shape
        lora[f"diffusion_model.{orig}.lora_down.weight"] = torch.randn(RANK, in_dim, generator=g).half()
        lora[f"diffusion_model.{orig}.lora_up.weight"] = torch.randn(out_dim, RANK, generator=g).half()
        lora[f"diffusion_model.{orig}.alpha"] = torch.tensor(ALPHA)
        lora[f"diffusion_model.{orig}.diff_b"] = torch.randn(out_dim, generator=g).half()
        targets[orig] = diff
    for i in range(num_blocks):
        dim = base[f"blocks.{i}.attn1.norm_q.weight"].shape[0]
        lora[f"diffusion_model.blocks.{i}.self_attn.norm_q.diff"] = torch.randn(dim, generator=g).half()
    return lora, targets


@pytest.fixture
def teacher(tiny_vace_dir):
    return Denoiser.from_dir(tiny_vace_dir, "vace")


def test_merge_is_w_plus_scaled_up_down_plus_diffs(teacher):
    base = {k: v.clone() for k, v in teacher.transformer.state_dict().items()}
    lora, targets = make_lora(base, teacher.num_blocks)
    assert is_lora_state(lora) and not is_lora_state(base)
    merged = merge_lora(base, lora)
    for orig, diff in targets.items():
        up = lora[f"diffusion_model.{orig}.lora_up.weight"].float()
        down = lora[f"diffusion_model.{orig}.lora_down.weight"].float()
        expect_w = base[f"{diff}.weight"] + (ALPHA / RANK) * up @ down
        expect_b = base[f"{diff}.bias"] + lora[f"diffusion_model.{orig}.diff_b"].float()
        assert torch.allclose(merged[f"{diff}.weight"], expect_w, atol=1e-5), orig
        assert torch.allclose(merged[f"{diff}.bias"], expect_b, atol=1e-6), orig
    for i in range(teacher.num_blocks):
        k = f"blocks.{i}.attn1.norm_q.weight"
        assert torch.allclose(merged[k], base[k] + lora[f"diffusion_model.blocks.{i}.self_attn.norm_q.diff"].float())
        assert torch.equal(merged[f"blocks.{i}.attn1.norm_k.weight"], base[f"blocks.{i}.attn1.norm_k.weight"])
    untouched = [k for k in base if k.startswith(("vace_", "patch_embedding", "blocks.0.norm2", "scale_shift"))]
    assert any(k.startswith("vace_blocks.") for k in untouched)
    assert all(torch.equal(merged[k], base[k]) for k in untouched)
    assert torch.equal(base["proj_out.weight"], teacher.transformer.state_dict()["proj_out.weight"])  # pure


def test_no_alpha_means_scale_one_and_bad_files_are_named(teacher):
    base = teacher.transformer.state_dict()
    lora, _ = make_lora(base, 1)
    lora = {k: v for k, v in lora.items() if not k.endswith(".alpha")}
    merged = merge_lora(base, lora)
    up = lora["diffusion_model.blocks.0.self_attn.q.lora_up.weight"].float()
    down = lora["diffusion_model.blocks.0.self_attn.q.lora_down.weight"].float()
    assert torch.allclose(merged["blocks.0.attn1.to_q.weight"], base["blocks.0.attn1.to_q.weight"] + up @ down,
                          atol=1e-5)
    with pytest.raises(BadInputError, match="blocks.99"):
        merge_lora(base, {"blocks.99.self_attn.q.lora_down.weight": torch.zeros(RANK, 32),
                          "blocks.99.self_attn.q.lora_up.weight": torch.zeros(32, RANK)})
    with pytest.raises(ConfigError, match="VACE-only"):
        merge_lora(base, {"vace_blocks.0.before_proj.diff_b": torch.zeros(32)})
    with pytest.raises(BadInputError, match="only one of"):
        merge_lora(base, {"blocks.0.self_attn.q.lora_down.weight": torch.zeros(RANK, 32)})


def test_trainer_accwan_from_a_lora_file(tiny_vace_dir, tiny_samples, tmp_path, teacher):
    base = teacher.transformer.state_dict()
    lora, _ = make_lora(base, teacher.num_blocks, seed=1)
    path = tmp_path / "acc_lora_rank4.safetensors"
    save_file(lora, str(path))
    expect = accwan_state(path, base)
    tr = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path / "run", f"init.accwan_from={path}"), tiny_samples)
    gen = tr.nets.generator.transformer.state_dict()
    for k in gen:
        assert torch.allclose(gen[k], expect[k]), k
        if k.startswith(("vace_blocks.", "vace_patch_embedding.")):
            assert torch.equal(gen[k], base[k]), k
    assert not torch.allclose(gen["blocks.1.attn1.to_q.weight"], base["blocks.1.attn1.to_q.weight"])
    fake = tr.nets.fake_score.transformer.state_dict()
    assert torch.equal(fake["blocks.1.attn1.to_q.weight"], base["blocks.1.attn1.to_q.weight"])


def test_sharded_loader_merges_each_rank_rows(teacher, tmp_path):
    """The sharded build's LoRA source: rows [a, b) of every merged weight, computed from rows [a, b) alone."""
    from vdot_train.scale.sources import LoraSource, is_lora_file
    from vdot_train.scale.weights import StateDictSource

    base = {k: v.clone() for k, v in teacher.transformer.state_dict().items()}
    lora, targets = make_lora(base, teacher.num_blocks, seed=3)
    save_file(lora, tmp_path / "lora.safetensors")
    save_file(base, tmp_path / "full.safetensors")
    assert is_lora_file(tmp_path / "lora.safetensors") and not is_lora_file(tmp_path / "full.safetensors")
    merged = merge_lora(base, lora)
    src = LoraSource(StateDictSource(base), tmp_path / "lora.safetensors")
    for key in [f"{d}.{p}" for d in targets.values() for p in ("weight", "bias")] + ["blocks.0.attn1.norm_q.weight"]:
        n = base[key].shape[0]
        for rows in (slice(0, n // 2), slice(n // 2, n)):
            assert torch.allclose(src.read(key, rows), merged[key][rows], atol=1e-6), key
    assert torch.equal(src.read("vace_blocks.0.proj_out.weight"), base["vace_blocks.0.proj_out.weight"])
