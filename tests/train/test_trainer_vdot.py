"""VDOTTrainer on a tiny VACE teacher: alternation, parity objectives, frozen teacher, CFG real score, non-finite
skip, checkpoint resume identical to a straight run, prompt-only phase 1, AccWanInit."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from uvc_data.configurable import apply_overrides
from vdot_train.flow import cfg as apply_cfg, x0_from_velocity
from vdot_train.recipes import get_recipe
from vdot_train.trainer.build import build_vdot_trainer


def tiny_cfg(model_dir: str, out_dir, *overrides: str):
    cfg = get_recipe("tiny_cpu")
    cfg.model.path = model_dir
    cfg.run.out_dir = str(out_dir)
    return apply_overrides(cfg, list(overrides))


def params_of(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(a, b):
    return any(not torch.equal(a[k], b[k]) for k in a)


def test_alternation_parity_and_frozen_teacher(tiny_vace_dir, tiny_samples, tmp_path):
    tr = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path, "run.log_every=0", "run.ckpt_every=0"), tiny_samples)
    teacher0, gen0, fake0 = (params_of(m) for m in (tr.nets.teacher, tr.nets.generator, tr.nets.fake_score))
    heads0 = params_of(tr.nets.heads)
    recs = [tr.train_step() for _ in range(6)]
    gen_steps = [r["step"] for r in recs if "g/loss" in r]
    assert gen_steps == [0, 5]  # dfake_gen_update_ratio 5
    assert all("c/loss" in r for r in recs)  # critic every iteration
    assert "g/dmd" in recs[0] and "g/otd" in recs[0] and "g/gan_g" not in recs[0]  # even: OTD + λ·DMD
    assert "g/gan_g" in recs[5] and "g/dmd" not in recs[5]  # odd: GAN-G
    assert all("c/denoise" in r for r in recs[0::2]) and all("c/gan_d" in r for r in recs[1::2])
    assert math.isclose(recs[0]["g/loss"], 0.2 * recs[0]["g/dmd"] + 0.8 * recs[0]["g/otd"], rel_tol=1e-4)
    assert math.isclose(recs[5]["g/loss"], 0.1 * recs[5]["g/gan_g"], rel_tol=1e-4)
    assert tr.counters["generator_updates"] == 2 and tr.counters["critic_updates"] == 6
    assert not changed(teacher0, params_of(tr.nets.teacher))
    assert changed(gen0, params_of(tr.nets.generator)) and changed(fake0, params_of(tr.nets.fake_score))
    assert changed(heads0, params_of(tr.nets.heads))


def test_real_score_is_teacher_with_cfg(tiny_vace_dir, tiny_samples, tmp_path):
    tr = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path), tiny_samples)
    batch = tr.data.next_batch()
    x_t = torch.randn(batch.shape)
    t = torch.tensor([400.0])
    te = tr.nets.teacher
    with torch.no_grad():
        v_c = te(x_t, t, batch.text_emb, batch.context).velocity
        v_u = te(x_t, t, tr.negative_emb, batch.context).velocity
    expected = x0_from_velocity(x_t, apply_cfg(v_u, v_c, 3.0), t)
    assert torch.allclose(tr.x0_real(x_t, t, batch), expected, atol=1e-5)
    assert not torch.allclose(expected, x0_from_velocity(x_t, v_c, t), atol=1e-4)


def test_non_finite_critic_update_is_skipped_and_training_goes_on(tiny_vace_dir, tiny_samples, tmp_path, caplog):
    tr = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path, "loss.gan=false"), tiny_samples)
    p = tr.nets.fake_score.transformer.proj_out.bias
    saved = p.detach().clone()
    with torch.no_grad():
        p[0] = float("nan")
    before = params_of(tr.nets.fake_score)
    rec = tr.train_step()
    assert rec["c/skipped"] == 1.0 and tr.counters["skipped_critic"] == 1
    after = params_of(tr.nets.fake_score)
    assert all(torch.equal(before[k], after[k]) or k.endswith("proj_out.bias") for k in before)
    assert any("skipped" in r.message for r in caplog.records)
    with torch.no_grad():
        p.copy_(saved)
    rec = tr.train_step()
    assert rec["c/skipped"] == 0.0 and math.isfinite(rec["c/loss"])


def _losses(records):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


@pytest.mark.parametrize("variant", [(), ("loss.share_score_draw=true", "schedule.student_schedule=consistent",
                                          "loss.otd.gradient=unrolled_cost", "disc.head=compact"),
                                     ("run.async_checkpoint=true",)])
def test_resume_gives_identical_losses(tiny_vace_dir, tiny_samples, tmp_path, variant):
    # ratio 1: the generator updates every iteration, so both its objectives (even: OTD+DMD, odd: GAN-G) are resumed;
    # the official defaults, every option that changes the draws or the objective, and background checkpoints
    over = ("schedule.dfake_gen_update_ratio=1", "schedule.grad_accum=2", "run.ema_decay=0.9", "run.ckpt_every=2",
            "run.log_every=1", *variant)
    straight = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path / "a", *over), tiny_samples)
    ref = straight.fit(4)
    first = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path / "b", *over), tiny_samples)
    part1 = first.fit(2)
    ckpt_dir = tmp_path / "b" / "checkpoints"
    assert (ckpt_dir / "latest").read_text() == "step_0000002"
    assert not [p for p in ckpt_dir.iterdir() if p.name.startswith(".step")]  # no temporary dirs left
    resumed = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path / "b", *over), tiny_samples)
    assert resumed.step == 2
    part2 = resumed.fit(4)
    assert _losses(part1 + part2) == _losses(ref)
    for name in ("generator", "fake_score"):
        a = getattr(straight.nets, name).transformer.state_dict()
        b = getattr(resumed.nets, name).transformer.state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)
    log_lines = (tmp_path / "b" / "log.jsonl").read_text().splitlines()
    assert [json.loads(x)["step"] for x in log_lines] == [0, 1, 2, 3]


def test_checkpoint_layout_and_generator_weights_load_in_diffusers(tiny_vace_dir, tiny_samples, tmp_path):
    from diffusers import WanVACETransformer3DModel

    from vdot_train.scale.dcp_checkpoint import iter_tensor_groups, tensor_metadata
    from vdot_train.trainer.checkpoint import read_transformer_state

    tr = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path, "run.keep_checkpoints=1"), tiny_samples)
    tr.fit(1)
    tr.fit(2)
    ck = tmp_path / "checkpoints"
    assert sorted(p.name for p in ck.iterdir()) == ["latest", "step_0000002"]
    files = sorted(p.name for p in (ck / "step_0000002").iterdir())
    assert files[0] == ".metadata" and "state.pt" in files and "config.json" in files
    assert any(f.endswith(".distcp") for f in files)
    state = torch.load(ck / "step_0000002" / "state.pt", weights_only=True)
    assert state["step"] == 2 and state["data"]["batches"] > 0 and state["world"] == 1
    groups = {k.split(".")[0] for k in tensor_metadata(ck / "step_0000002")}
    assert {"generator", "fake_score", "disc_heads", "opt_g", "opt_c"} <= groups
    model = WanVACETransformer3DModel.from_pretrained(Path(tiny_vace_dir) / "transformer")
    model.load_state_dict(read_transformer_state(tmp_path))  # the run dir → its latest checkpoint's generator
    assert torch.equal(model.proj_out.weight, tr.nets.generator.transformer.proj_out.weight)
    # key by key, in bounded groups (what export streams)
    sizes = [sum(t.numel() * t.element_size() for t in g.values())
             for g in iter_tensor_groups(ck / "step_0000002", "generator", max_bytes=64 << 10)]
    assert len(sizes) > 1 and max(sizes) <= 64 << 10 or len(sizes) > 1


def test_phase1_prompt_only_t2v(tiny_t2v_dir, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a dog runs\na cat sleeps\n\nrain on a window\n")
    cfg = tiny_cfg(tiny_t2v_dir, tmp_path / "run", "model.kind=t2v", "loss.gan=false", "loss.otd_weight=0",
                   "loss.dmd_weight=1", f"data.prompts_file={prompts}", "schedule.dfake_gen_update_ratio=1")
    tr = build_vdot_trainer(cfg)
    recs = tr.fit(2)
    assert all("g/dmd" in r and "g/otd" not in r and "c/denoise" in r for r in recs)
    # 2 iterations × (generator + critic) × batch 1 = 4 prompts drawn from 3: one epoch and one more
    assert (tr.data.prompts.epoch, tr.data.prompts.index) == (1, 1)


def test_gan_needs_real_clips(tiny_t2v_dir, tmp_path):
    from uvc_data.errors import ConfigError

    prompts = tmp_path / "p.txt"
    prompts.write_text("x\n")
    with pytest.raises(ConfigError, match="loss.gan"):
        build_vdot_trainer(tiny_cfg(tiny_t2v_dir, tmp_path, "model.kind=t2v", f"data.prompts_file={prompts}"))


def test_accwan_init(tiny_vace_dir, tiny_t2v_dir, tiny_samples, tmp_path):
    from safetensors.torch import save_file

    from vdot_train.models.accwan import accwan_init
    from vdot_train.models.denoiser import Denoiser

    t2v = Denoiser.from_dir(tiny_t2v_dir, "t2v").transformer
    with torch.no_grad():
        for p in t2v.parameters():
            p.add_(0.5)  # a "few-step" T2V checkpoint distinct from the teacher
    save_file({k: v.contiguous() for k, v in t2v.state_dict().items()}, tmp_path / "t2v.safetensors")
    tr = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path / "run",
                                     f"init.accwan_from={tmp_path / 't2v.safetensors'}"), tiny_samples)
    gen = tr.nets.generator.transformer.state_dict()
    teacher = tr.nets.teacher.transformer.state_dict()
    t2v_sd = t2v.state_dict()
    assert torch.equal(gen["blocks.2.attn1.to_q.weight"], t2v_sd["blocks.2.attn1.to_q.weight"])
    assert torch.equal(gen["patch_embedding.weight"], t2v_sd["patch_embedding.weight"])
    assert torch.equal(gen["vace_blocks.1.proj_out.weight"], teacher["vace_blocks.1.proj_out.weight"])
    assert torch.equal(gen["vace_patch_embedding.weight"], teacher["vace_patch_embedding.weight"])
    assert not torch.equal(tr.nets.fake_score.transformer.state_dict()["blocks.2.attn1.to_q.weight"],
                           t2v_sd["blocks.2.attn1.to_q.weight"])  # the fake score stays the teacher
    from uvc_data.errors import ConfigError

    small = {k: v for k, v in t2v_sd.items() if not k.startswith("blocks.3")}
    with pytest.raises(ConfigError, match="accwan_from"):
        accwan_init(tr.nets.generator.transformer, small)


def test_gradient_checkpointing_gives_the_same_iteration(tiny_vace_dir, tiny_samples, tmp_path):
    over = ("schedule.dfake_gen_update_ratio=1", "run.log_every=0", "run.ckpt_every=0")
    plain = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path / "a", *over), tiny_samples)
    ckpt = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path / "b", *over, "run.gradient_checkpointing=true"),
                              tiny_samples)
    assert ckpt.nets.generator.transformer.gradient_checkpointing
    for _ in range(2):
        a, b = plain.train_step(), ckpt.train_step()
        for k in ("g/loss", "c/loss", "g/grad_norm", "c/grad_norm"):
            assert math.isclose(a[k], b[k], rel_tol=1e-4, abs_tol=1e-7), k


def test_ema_is_checkpointed_and_loadable(tiny_vace_dir, tiny_samples, tmp_path):
    from vdot_train.models.denoiser import Denoiser
    from vdot_train.trainer.checkpoint import load_student_weights

    tr = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path, "run.ema_decay=0.5",
                                     "schedule.dfake_gen_update_ratio=1"), tiny_samples)
    tr.fit(2)
    den = Denoiser.from_dir(tiny_vace_dir, "vace")
    load_student_weights(den, str(tmp_path), prefer_ema=True)
    ema = tr.ema.state_dict()["transformer.proj_out.weight"]
    assert torch.equal(den.transformer.proj_out.weight, ema)
    assert not torch.equal(ema, tr.nets.generator.transformer.proj_out.weight)
    load_student_weights(den, str(tmp_path))
    assert torch.equal(den.transformer.proj_out.weight, tr.nets.generator.transformer.proj_out.weight)


def test_even_generator_ratio_with_gan_is_refused(tiny_vace_dir, tmp_path):
    """With an even ratio every generator update falls on an even iteration: GAN-G would silently never run."""
    from uvc_data.configurable import validate
    from uvc_data.errors import ConfigError

    with pytest.raises(ConfigError, match="schedule.dfake_gen_update_ratio.*even"):
        validate(tiny_cfg(tiny_vace_dir, tmp_path / "e", 'data.shards=["s.tar"]', "schedule.dfake_gen_update_ratio=4"))
    validate(tiny_cfg(tiny_vace_dir, tmp_path / "o", 'data.shards=["s.tar"]', "schedule.dfake_gen_update_ratio=4",
                      "loss.gan=false"))
