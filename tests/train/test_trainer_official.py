"""The trainer's defaults are the official VDOT recipe (method.md; `training/configs/self_forcing_bi_gan.yaml`,
`training/model/bi_dmd_gan.py`, `training/trainer/distillation_vace.py`), and the official draw structure holds in a
real training iteration: one exit step per iteration, DMD and OTD with their own draws, one noise for real and fake in
the critic's GAN step."""
from __future__ import annotations

import pytest
import torch

from uvc_data.prompts import WAN_NEGATIVE_PROMPT
from vdot_train.flow import OFFICIAL_GENERATOR_LABELS, add_noise
from vdot_train.recipes import get_recipe
from vdot_train.trainer.build import build_vdot_trainer
from vdot_train.trainer.config import TrainConfig

from tests.train.test_trainer_vdot import tiny_cfg


@pytest.mark.parametrize("recipe", [None, "phase2"])
def test_defaults_are_the_official_values(recipe):
    cfg = TrainConfig() if recipe is None else get_recipe(recipe)
    assert cfg.optim.grad_clip == 5.0  # max_grad_norm_generator / _critic
    assert cfg.optim.betas == (0.0, 0.999) and cfg.optim.lr_critic == 4e-7
    lc = cfg.loss
    assert lc.negative_prompt == WAN_NEGATIVE_PROMPT and lc.negative_prompt.startswith("色调艳丽")
    assert (lc.dmd_weight, lc.otd_weight, lc.gan_g_weight, lc.gan_d_weight) == (0.2, 0.8, 0.1, 0.1)
    assert lc.guidance == 3.0 and lc.dmd_normaliser == "t_over_1000"
    assert (lc.shift, lc.critic_shift, lc.t_min, lc.t_max) == (5.0, 12.0, 20.0, 980.0)
    assert lc.t_draw == (20, 980) and lc.critic_t_draw == (0, 1000)  # integer draws before the shift
    assert lc.share_score_draw is False  # DMD and OTD each draw their own t, noise and scores
    assert (lc.r1_weight, lc.r1_sigma) == (0.0, 0.05)  # approximate R1 off; its σ when on
    assert (lc.otd.eps, lc.otd.iters, lc.otd.pool, lc.otd.alpha) == (0.1, 60, 2, 0.1)
    sc = cfg.schedule
    assert sc.student_schedule == "official" and sc.student_steps == (1000, 750, 500, 250)
    assert (sc.label_shift, sc.sigma_shift, sc.dfake_gen_update_ratio, sc.grad_accum) == (8.0, 16.0, 5, 3)
    d = cfg.disc
    assert (d.head, d.reg_dim, d.attn_heads, d.ffn_dim, d.time_scale) == ("official", 512, 8, 13824, 10.0)
    assert d.blocks == (23, 31, 39)


def _generator_call_labels(tr):
    """Record the timestep of every generator forward (a hook on the real transformer)."""
    seen = []
    tr.nets.generator.transformer.register_forward_pre_hook(
        lambda _m, _args, kwargs: seen.append(round(float(kwargs["timestep"][0]), 3)), with_kwargs=True)
    return seen


def _rollout_lengths(labels):
    """Split a stream of generator-call labels into rollouts (each starts at the first label) → exit steps."""
    starts = [i for i, t in enumerate(labels) if t == pytest.approx(OFFICIAL_GENERATOR_LABELS[0], abs=1e-3)]
    return [b - a - 1 for a, b in zip(starts, starts[1:] + [len(labels)])]


def test_one_exit_step_per_iteration_shared_by_generator_critic_and_micro_batches(tiny_vace_dir, tiny_samples,
                                                                                 tmp_path):
    tr = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path, "schedule.grad_accum=3",
                                     "schedule.dfake_gen_update_ratio=1", "run.log_every=0", "run.ckpt_every=0"),
                            tiny_samples)
    seen = _generator_call_labels(tr)
    exits = []
    for _ in range(6):
        seen.clear()
        tr.train_step()
        ks = _rollout_lengths(seen)
        assert len(ks) == 6  # 3 generator + 3 critic micro-batches
        assert len(set(ks)) == 1, f"exit steps differ within one iteration: {ks}"
        # the generator is called with the official labels
        assert seen[: ks[0] + 1] == pytest.approx(list(OFFICIAL_GENERATOR_LABELS[: ks[0] + 1]), abs=1e-3)
        exits.append(ks[0])
    assert len(set(exits)) > 1  # still random from one iteration to the next


@pytest.mark.parametrize("shared", [False, True])
def test_dmd_and_otd_each_run_their_own_draw_and_scores(tiny_vace_dir, tiny_samples, tmp_path, shared):
    tr = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path, f"loss.share_score_draw={str(shared).lower()}",
                                     "run.log_every=0", "run.ckpt_every=0"), tiny_samples)
    calls = []
    tr.nets.teacher.transformer.register_forward_pre_hook(lambda *_: calls.append("real"))
    tr.nets.fake_score.transformer.register_forward_pre_hook(lambda *_: calls.append("fake"))
    tr._seed_iteration()
    loss, stats = tr.generator_loss(tr.data.next_batch())
    # official: fake cond + real cond + real uncond per term → 3 + 3; shared: one set of 3
    assert calls == ["fake", "real", "real"] * (1 if shared else 2)
    assert (stats["t_dmd"] == stats["t_otd"]) is shared
    assert loss.requires_grad


def test_critic_gan_step_noises_real_and_fake_with_the_same_noise_in_one_forward(tiny_vace_dir, tiny_samples, tmp_path):
    tr = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path, "run.log_every=0", "run.ckpt_every=0"), tiny_samples)
    tr.step = 1  # odd: the critic trains the discriminator
    assert not tr.is_even()
    inputs, batches, samples = [], [], []
    tr.nets.fake_score.transformer.register_forward_pre_hook(
        lambda _m, _a, kw: inputs.append((kw["hidden_states"].detach().clone(), kw["timestep"].clone())),
        with_kwargs=True)
    next_batch, generate = tr.data.next_batch, tr.generate
    tr.data.next_batch = lambda: batches.append(next_batch()) or batches[-1]
    tr.generate = lambda b, grad: samples.append(generate(b, grad)) or samples[-1]
    tr._seed_iteration()
    tr.critic_loss(tr.data.next_batch())
    # one forward of the concatenated batch (fake; real), as the official critic does
    assert len(inputs) == 1
    (x_fake, x_real), (t, t2) = inputs[0][0].chunk(2), inputs[0][1].chunk(2)
    assert torch.equal(t, t2)
    sigma = float(t[0]) / 1000
    x0_hat, real = samples[0][0], batches[0].real
    noise = (x_fake - (1 - sigma) * x0_hat) / sigma  # the fake's noise, recovered
    assert torch.allclose(x_real, add_noise(real, noise, t), atol=1e-4)
    assert not torch.allclose(noise, torch.zeros_like(noise))


def test_critic_r1_rides_in_the_critic_forward_and_equals_separate_evaluations(tiny_vace_dir, tiny_samples, tmp_path):
    sigma = 0.05
    tr = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path, "loss.r1_weight=1.0", f"loss.r1_sigma={sigma}",
                                     "run.log_every=0", "run.ckpt_every=0"), tiny_samples)
    tr.step = 1
    inputs = []
    hook = tr.nets.fake_score.transformer.register_forward_pre_hook(
        lambda _m, _a, kw: inputs.append((kw["hidden_states"].detach().clone(), kw["timestep"].clone())),
        with_kwargs=True)
    tr._seed_iteration()
    batch = tr.data.next_batch()
    loss, stats = tr.critic_loss(batch)
    hook.remove()
    assert len(inputs) == 1  # fake, real and the perturbed real: one forward of three
    x_fake, x_real, x_pert = inputs[0][0].chunk(3)
    t = inputs[0][1].chunk(3)[0]
    n = (x_pert - x_real) / sigma
    assert abs(float(n.std()) - 1) < 0.1 and abs(float(n.mean())) < 0.1  # x + σ·n, n ~ N(0, I)
    with torch.no_grad():  # each input in its own forward gives the same logits and the same R1
        d_fake, d_real, d_pert = (tr.logits(x, t, batch) for x in (x_fake, x_real, x_pert))
    assert stats["r1"] == pytest.approx(float((d_real - d_pert).pow(2).mean()), rel=1e-3, abs=1e-9)
    assert stats["d_real"] == pytest.approx(float(d_real.mean()), rel=1e-4, abs=1e-6)
    assert stats["d_fake"] == pytest.approx(float(d_fake.mean()), rel=1e-4, abs=1e-6)
    assert float(loss.detach()) == pytest.approx(tr.cfg.loss.gan_d_weight * stats["gan_d"] + stats["r1"], rel=1e-5)


@pytest.mark.parametrize("sets,key", [(["loss.r1_weight=-1"], "loss.r1_weight"),
                                      (["loss.r1_weight=1", "loss.r1_sigma=0"], "loss.r1_sigma")])
def test_bad_r1_settings_are_refused_naming_the_key(tiny_vace_dir, tmp_path, sets, key):
    from uvc_data.configurable import validate
    from uvc_data.errors import ConfigError

    with pytest.raises(ConfigError, match=key):
        validate(tiny_cfg(tiny_vace_dir, tmp_path, *sets))


def test_each_trained_network_runs_one_forward_with_grad_per_backward(tiny_vace_dir, tiny_samples, tmp_path):
    """A network whose parameters enter two forward graphs of one backward holds its whole gradient unsharded until
    the second graph reaches it (autograd sums both contributions before FSDP can reduce-scatter): every phase must
    run each trainable network at most once with grad between backwards."""
    tr = build_vdot_trainer(tiny_cfg(tiny_vace_dir, tmp_path, "schedule.dfake_gen_update_ratio=1", "run.log_every=0",
                                     "run.ckpt_every=0"), tiny_samples)
    calls = []
    for name in ("generator", "fake_score"):
        net = getattr(tr.nets, name)
        net.transformer.register_forward_pre_hook(
            lambda m, _a, n=name: calls.append(n) if torch.is_grad_enabled() and any(
                p.requires_grad for p in m.parameters()) else None)
    per_backward = []
    backward = torch.Tensor.backward

    def counted(self, *a, **k):
        per_backward.append(list(calls))
        calls.clear()
        return backward(self, *a, **k)

    torch.Tensor.backward = counted
    try:
        for _ in range(2):  # generator even + critic even, generator odd (GAN-G) + critic odd (GAN-D)
            tr.train_step()
    finally:
        torch.Tensor.backward = backward
    assert per_backward == [["generator"], ["fake_score"], ["generator"], ["fake_score"]]


def test_sampler_and_cli_negative_prompt_default_to_wans():
    import argparse
    import inspect

    from vdot_train import sampling
    from vdot_train.cli import register

    for fn in (sampling.generate, sampling.sample_latents):
        assert inspect.signature(fn).parameters["negative_prompt"].default == WAN_NEGATIVE_PROMPT
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["generate", "--model-path", "m", "--prompt", "p", "--out", "o"])
    assert args.negative_prompt == WAN_NEGATIVE_PROMPT
