import math

import pytest
import torch
import torch.nn.functional as F

from uvc_data.errors import ConfigError
from vdot_train.losses.otd import (
    OTDConfig,
    envelope_gradient,
    frame_points,
    otd_gradient,
    otd_gradient_and_stats,
    otd_loss,
    unpool_gradient,
)
from vdot_train.losses.sinkhorn import sinkhorn_log


def _latents(seed, shape=(2, 4, 3, 6, 8), noise=0.3, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    fake = torch.randn(shape, generator=g, dtype=dtype)
    return fake, fake + noise * torch.randn(shape, generator=g, dtype=dtype)


def test_frame_points_shape_and_values():
    lat = torch.randn(2, 16, 3, 6, 10)
    pts = frame_points(lat, pool=2)
    assert pts.shape == (2 * 3, 3 * 5, 16)
    # point (frame b=1,t=2; pooled row 1, col 4) is the mean of the 2×2 window
    manual = lat[1, :, 2, 2:4, 8:10].mean(dim=(-1, -2))
    assert torch.allclose(pts[1 * 3 + 2, 1 * 5 + 4], manual, atol=1e-6)
    assert frame_points(lat, pool=1).shape == (6, 60, 16)
    with pytest.raises(ValueError, match="B, C, T, H, W"):
        frame_points(torch.randn(2, 16, 6, 10))


@pytest.mark.parametrize("shape,pool", [((2, 3, 2, 6, 8), 2), ((1, 2, 3, 7, 9), 2), ((1, 2, 2, 9, 9), 3)])
def test_unpool_gradient_equals_autograd_through_avg_pool(shape, pool):
    lat = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    pts = frame_points(lat, pool)
    upstream = torch.randn(pts.shape, dtype=torch.float64)
    (auto,) = torch.autograd.grad(pts, lat, upstream)
    assert torch.allclose(unpool_gradient(upstream, shape, pool), auto, atol=1e-12)


def test_envelope_matches_unrolled_once_converged():
    fake, real = _latents(0)
    base = dict(eps=0.5, iters=3000, tol=1e-8, frame_l2_normalise=False)
    g_env = otd_gradient(fake, real, OTDConfig(gradient="envelope", **base))
    g_unr = otd_gradient(fake, real, OTDConfig(gradient="unrolled_entropic", **base))
    assert g_env.shape == fake.shape
    cos = F.cosine_similarity(g_env.flatten(), g_unr.flatten(), dim=0)
    assert float(cos) >= 0.999
    assert torch.allclose(g_env, g_unr, rtol=1e-3, atol=1e-6)


def test_envelope_gradient_finite_difference_of_W_eps():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(12, 3, generator=g, dtype=torch.float64)
    y = torch.randn(10, 3, generator=g, dtype=torch.float64) + 0.4
    eps = 0.3

    def W(xx):
        return float(sinkhorn_log(xx, y, eps=eps, iters=20000, tol=1e-13).value)

    grad, stats = envelope_gradient(x, y, eps=eps, iters=20000, tol=1e-13)
    assert stats["W"] == pytest.approx(W(x), rel=1e-9)
    h = 1e-5
    for i, d in [(0, 0), (3, 1), (7, 2), (11, 0)]:
        e = torch.zeros_like(x)
        e[i, d] = h
        fd = (W(x + e) - W(x - e)) / (2 * h)
        assert float(grad[i, d]) == pytest.approx(fd, rel=1e-4, abs=1e-8)


def test_envelope_builds_no_graph_and_unrolled_memory_grows_with_iterations():
    fake, real = _latents(1, dtype=torch.float32)

    def saved_bytes(cfg):
        total = [0]

        def pack(t):
            total[0] += t.numel() * t.element_size()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            otd_gradient(fake.requires_grad_(True), real, cfg)
        return total[0]

    assert saved_bytes(OTDConfig(gradient="envelope", iters=30)) == 0
    short = saved_bytes(OTDConfig(gradient="unrolled_cost", iters=10))
    long = saved_bytes(OTDConfig(gradient="unrolled_cost", iters=40))
    assert long > 3 * short  # ≈ 2 cost-sized tensors saved per iteration


def test_gradient_is_a_descent_direction_for_W():
    fake, real = _latents(2, shape=(1, 4, 2, 6, 6))
    cfg = OTDConfig(eps=0.3, iters=500, tol=1e-9)
    grad, stats = otd_gradient_and_stats(fake, real, cfg)
    moved = otd_gradient_and_stats(fake - 0.05 * grad, real, cfg)[1]
    assert moved["W"] < stats["W"]


def test_per_frame_normalisation_and_loss_gradient():
    fake, real = _latents(4, dtype=torch.float32)
    cfg = OTDConfig(iters=30)
    grad = otd_gradient(fake, real, cfg)
    norms = grad.pow(2).sum(dim=(1, 3, 4)).sqrt()  # [B, T]
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-5)
    x0_hat = fake.clone().bfloat16().requires_grad_(True)
    loss, stats = otd_loss(x0_hat, fake, real, cfg)
    loss.backward()
    assert set(stats) >= {"W", "err", "iters"} and stats["iters"] == 30
    assert torch.allclose(x0_hat.grad.float(), cfg.alpha * grad, atol=2e-3)
    assert float(loss.detach()) == pytest.approx(0.5 * cfg.alpha**2 * float(grad.pow(2).sum()), rel=1e-4)


def test_batch_points_and_chunking():
    g = torch.Generator().manual_seed(6)
    fake = torch.randn(64, 2, generator=g)
    real = torch.randn(64, 2, generator=g) + 1.0
    grad = otd_gradient(fake, real, OTDConfig(points="batch", iters=100))
    assert grad.shape == fake.shape
    assert float(grad.norm()) == pytest.approx(1.0, rel=1e-5)
    # moving against the gradient moves the cloud towards the real one (mean shift of +1)
    assert float(-grad.mean(0).sum()) > 0
    lat_f, lat_r = _latents(7, dtype=torch.float32)
    full = otd_gradient(lat_f, lat_r, OTDConfig(iters=20))
    chunked = otd_gradient(lat_f, lat_r, OTDConfig(iters=20, chunk=2))
    assert torch.allclose(full, chunked, atol=1e-6)


def test_config_validation_names_the_field():
    with pytest.raises(ConfigError, match="`eps`"):
        otd_gradient(*_latents(0), OTDConfig(eps=0.0))
    with pytest.raises(ConfigError, match="`gradient`"):
        otd_gradient(*_latents(0), OTDConfig(gradient="autograd"))  # type: ignore[arg-type]


def _cost_of_unrolled_scaling_sinkhorn(x, y, eps, iters):
    """⟨C, P⟩ of Sinkhorn in log-scaling form (log u, log v) from zero, uniform marginals: an independent formulation."""
    C = torch.cdist(x, y) ** 2
    la = torch.full((x.shape[0],), -math.log(x.shape[0]), dtype=x.dtype)
    lb = torch.full((y.shape[0],), -math.log(y.shape[0]), dtype=x.dtype)
    lu, lv = torch.zeros_like(la), torch.zeros_like(lb)
    for _ in range(iters):
        lu = la - torch.logsumexp(-C / eps + lv[None, :], dim=1)
        lv = lb - torch.logsumexp(-C.T / eps + lu[None, :], dim=1)
    return (torch.exp(lu[:, None] - C / eps + lv[None, :]) * C).sum()


def test_unrolled_cost_is_autograd_of_the_transport_cost_alone():
    g = torch.Generator().manual_seed(5)
    fake = torch.randn(1, 3, 1, 4, 6, generator=g, dtype=torch.float64)
    real = fake + 0.7 * torch.randn(fake.shape, generator=g, dtype=torch.float64)
    cfg = OTDConfig(eps=0.1, iters=60, pool=2, gradient="unrolled_cost", frame_l2_normalise=False)
    grad = otd_gradient(fake, real, cfg)
    leaf = fake.clone().requires_grad_(True)
    pts = frame_points(leaf, 2)[0]
    cost = _cost_of_unrolled_scaling_sinkhorn(pts, frame_points(real, 2)[0], 0.1, 60)
    (expect,) = torch.autograd.grad(cost, leaf)
    assert torch.allclose(grad, expect, rtol=1e-6, atol=1e-10)
    # and it is not the entropic objective's gradient
    ent = otd_gradient(fake, real, OTDConfig(eps=0.1, iters=60, gradient="unrolled_entropic",
                                             frame_l2_normalise=False))
    assert not torch.allclose(grad, ent, rtol=1e-3)


def test_old_unrolled_name_is_refused_with_the_new_names():
    with pytest.raises(ConfigError, match="unrolled_entropic"):
        OTDConfig(gradient="unrolled").validate()
