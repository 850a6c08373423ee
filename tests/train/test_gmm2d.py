import pytest
import torch

from vdot_train.experiments import gmm2d
from vdot_train.experiments.gmm2d_train import GMM2DConfig, rollout, sample, train
from vdot_train.experiments.gmm_target import GaussianMixture2D, mode_metrics, w2_distance


def test_posterior_x0_matches_importance_sampling():
    target = GaussianMixture2D.ring(modes=4, radius=2.0, std=0.3)
    g = torch.Generator().manual_seed(0)
    x0 = target.sample(400_000, g).double()
    x_t = torch.tensor([[0.7, -0.2], [1.5, 1.0]], dtype=torch.float64)
    for t in (300.0, 700.0):
        sigma = t / 1000
        # weights ∝ N(x_t; (1 − σ)x0, σ²I)
        logw = -((x_t[:, None, :] - (1 - sigma) * x0[None]) ** 2).sum(-1) / (2 * sigma**2)
        w = torch.softmax(logw, dim=1)
        mc = w @ x0
        exact = target.posterior_x0(x_t, torch.full((2,), t))
        assert torch.allclose(exact, mc, atol=0.02)
    near_clean = target.posterior_x0(x_t, torch.zeros(2))
    assert torch.allclose(near_clean, x_t)  # σ = 0: the sample itself


def test_metrics_separate_good_and_collapsed_samples():
    target = GaussianMixture2D.ring()
    good = target.sample(2000, torch.Generator().manual_seed(1))
    m = mode_metrics(target, good)
    assert m["modes_covered"] == 8 and m["near_mode"] > 0.98
    collapsed = target.means[0].float() + 0.05 * torch.randn(2000, 2)
    m = mode_metrics(target, collapsed)
    assert m["modes_covered"] == 1 and m["near_mode"] > 0.98
    assert m["mode_tv"] == pytest.approx(0.875, abs=1e-6)  # all mass on one of 8 equal modes
    half = target.means[torch.arange(2000) % 4 * 2].float() + 0.05 * torch.randn(2000, 2)  # every other mode
    m = mode_metrics(target, half)
    assert m["modes_covered"] == 4 and m["mode_tv"] == pytest.approx(0.5, abs=1e-6)
    assert mode_metrics(target, good)["mode_tv"] < 0.05
    assert w2_distance(good[:300], good[:300]) == pytest.approx(0.0, abs=1e-9)
    assert w2_distance(collapsed[:300], good[:300]) > 1.5


def test_stratified_sample_has_exact_mode_counts():
    target = GaussianMixture2D.ring()
    x = target.sample_stratified(2000, torch.Generator().manual_seed(0))
    k = torch.cdist(x.double(), target.means).argmin(1)
    assert torch.equal(torch.bincount(k, minlength=8), torch.full((8,), 250))


def test_rollout_grad_only_on_exit_step():
    cfg = GMM2DConfig(hidden=16)
    from vdot_train.experiments.gmm2d_train import FlowNet
    from vdot_train.flow import student_timesteps

    gen = FlowNet(cfg.hidden)
    t_steps = student_timesteps(cfg.steps, cfg.shift)
    g = torch.Generator().manual_seed(0)
    assert rollout(gen, t_steps, 8, g, exit_step=1).requires_grad
    assert not rollout(gen, t_steps, 8, g, exit_step=None).requires_grad


@pytest.mark.parametrize("method", ["dmd", "otd+dmd+gan"])
def test_tiny_training_runs_and_moves_the_generator(method):
    target = GaussianMixture2D.ring()
    cfg = GMM2DConfig(method=method, iters=20, warmup=5, batch=32, hidden=16)
    before = sample(train(GMM2DConfig(method=method, iters=1, warmup=0, batch=32, hidden=16), target), 64)
    trained = train(cfg, target)
    after = sample(trained, 64)
    assert torch.isfinite(after).all() and not torch.allclose(before, after)
    assert any("loss_g" in h for h in trained.history)
    if "gan" in method:
        assert any("loss_d" in h for h in trained.history) and any("loss_g_gan" in h for h in trained.history)


def test_cli_tiny_writes_report_and_plot(tmp_path):
    gmm2d.main(["--out", str(tmp_path), "--tiny", "--seeds", "0", "--methods", "dmd", "otd",
                "--dmd-normaliser", "t_over_1000", "--steps", "1000", "750", "500", "--gen-every", "3"])
    text = (tmp_path / "experiments.md").read_text()
    assert "| dmd |" in text and "| otd |" in text and "python -m vdot_train.experiments.gmm2d" in text
    assert '"dmd_normaliser": "t_over_1000"' in text and '"steps": [1000, 750, 500]' in text
    assert '"gen_every": 3' in text and "mode imbalance" in text
    assert (tmp_path / "img" / "gmm2d.png").stat().st_size > 1000


def test_run_one_matches_the_in_process_loop():
    base = GMM2DConfig(method="dmd", iters=6, warmup=2, batch=16, hidden=8)
    row, x = gmm2d.run_one(base, 50)
    rows, shown = gmm2d.run(["dmd"], [0], base, 50)
    assert row["w2"] == pytest.approx(rows[0]["w2"]) and torch.equal(x, shown["dmd"])
    assert rows[-1]["method"].startswith("target samples") and set(shown) == {"dmd", "target"}


def test_unknown_method_names_the_field():
    from uvc_data.errors import ConfigError

    with pytest.raises(ConfigError, match="did you mean|Did you mean"):
        train(GMM2DConfig(method="otd+dm"), GaussianMixture2D.ring())
