"""The token-cloud OTD experiment: exact real score, set-level metrics, and that it runs the VDOT trainer itself with
OTD per sample over its K tokens."""
from __future__ import annotations

import torch

from vdot_train.experiments.gmm_target import GaussianMixture2D
from vdot_train.experiments.otd_toy import ToyConfig, build_trainer, pretrain, run_one, train_config
from vdot_train.experiments.token_clouds import ExactTeacher, TokenCloudMixture, cloud_metrics
from vdot_train.flow import add_noise
from vdot_train.losses.otd import frame_points
from vdot_train.trainer.vdot import VDOTTrainer


def test_posterior_is_the_gaussian_mixture_posterior():
    # one token in 2-D: the token-cloud mixture is the 2-D mixture of its templates
    tmpl = torch.tensor([[[-1.0, 0.5]], [[1.0, -0.5]], [[0.3, 2.0]]], dtype=torch.float64)
    cloud = TokenCloudMixture(tmpl, std=0.2, side=1)
    gmm = GaussianMixture2D(tmpl[:, 0], 0.2, torch.full((3,), 1 / 3, dtype=torch.float64))
    g = torch.Generator().manual_seed(0)
    x_t = torch.randn(64, 2, generator=g)
    t = torch.rand(64, generator=g) * 900 + 50
    got = cloud.posterior_x0(cloud.to_latent(x_t[:, None, :]), t)
    assert torch.allclose(cloud.to_clouds(got)[:, 0], gmm.posterior_x0(x_t, t), atol=1e-6)
    # the teacher returns the velocity whose x0 (FM-3) is that posterior
    v = ExactTeacher(cloud)(cloud.to_latent(x_t[:, None, :]).float(), t).velocity
    x0 = cloud.to_latent(x_t[:, None, :]) - (t / 1000).reshape(-1, 1, 1, 1, 1) * v
    assert torch.allclose(x0.double(), got.double(), atol=1e-5)


def test_metrics_are_set_level():
    target = TokenCloudMixture.default()
    g = torch.Generator().manual_seed(1)
    real = target.sample(200, g, stratified=True)
    m = cloud_metrics(target, real)
    assert m["modes_covered"] == 4 and m["near_mode"] == 1.0 and m["mode_tv"] < 0.01
    assert 0.8 < m["set_rms"] < 1.1  # RMS token error ≈ s·√D in its own unit
    # the same clouds with their tokens shuffled: identical as sets, far in the given order
    perm = torch.randperm(16, generator=g)
    shuffled = target.to_latent(target.to_clouds(real)[:, perm])
    ms = cloud_metrics(target, shuffled)
    assert abs(ms["set_rms"] - m["set_rms"]) < 1e-9 and ms["ordered_rms"] > 5 * m["ordered_rms"]
    # a collapsed generator: every cloud the ring
    one = target.to_latent(target.templates[[0] * 40].float())
    mc = cloud_metrics(target, one)
    assert mc["modes_covered"] == 1 and abs(mc["mode_tv"] - 0.75) < 1e-9


def test_experiment_runs_the_vdot_trainer_with_per_sample_token_clouds(tmp_path):
    target = TokenCloudMixture.default()
    cfg = ToyConfig(method="otd+dmd+gan", iters=3, pretrain_iters=3, batch=4, eval_n=8)
    tc = train_config(cfg, 0.01)
    assert tc.loss.otd.points == "frame" and tc.loss.otd.pool == 1  # OT over each sample's tokens
    assert (tc.loss.dmd_weight, tc.loss.otd_weight, tc.loss.gan_g_weight) == (0.2, 0.8, 0.1)
    assert tc.schedule.dfake_gen_update_ratio == 5 and tc.schedule.student_schedule == "official"
    tr = build_trainer(cfg, pretrain(target, cfg), target, str(tmp_path))
    assert isinstance(tr, VDOTTrainer)
    x = target.sample(4)
    assert frame_points(x, 1).shape == (4, 16, 2)  # one cloud of K = 16 tokens per sample
    recs = [tr.train_step() for _ in range(3)]
    assert "g/otd" in recs[0] and "g/dmd" in recs[0] and "c/gan_d" in recs[1]
    out = run_one(cfg)
    assert set(out) >= {"modes_covered", "mode_tv", "set_rms", "grad_dmd", "grad_otd"}
    # the official reductions: 0.8·OTD's per-element gradient is 0.8·α/√(D·K) exactly (unit norm per frame)
    assert abs(out["grad_otd"] - 0.8 * 0.1 / (2 * 16) ** 0.5) < 1e-6
    x_t = add_noise(x, torch.randn(x.shape), torch.full((4,), 500.0))
    assert torch.isfinite(ExactTeacher(target)(x_t, torch.full((4,), 500.0)).velocity).all()
