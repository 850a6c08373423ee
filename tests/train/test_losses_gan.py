import math

import pytest
import torch

from vdot_train.losses.gan import approx_r1, nonsaturating_d, nonsaturating_g, relativistic_d, relativistic_g


def test_relativistic_and_nonsaturating_values():
    d_fake, d_real = torch.tensor([0.0, 1.0]), torch.tensor([1.0, -1.0])
    sp = lambda z: math.log1p(math.exp(z))  # noqa: E731
    assert float(relativistic_g(d_fake, d_real)) == pytest.approx((sp(1.0) + sp(-2.0)) / 2)
    assert float(relativistic_d(d_real, d_fake)) == pytest.approx((sp(-1.0) + sp(2.0)) / 2)
    assert float(nonsaturating_g(d_fake)) == pytest.approx((sp(0.0) + sp(-1.0)) / 2)
    assert float(nonsaturating_d(d_real, d_fake)) == pytest.approx((sp(-1) + sp(1)) / 2 + (sp(0) + sp(1)) / 2)
    with pytest.raises(ValueError, match="element-wise"):
        relativistic_g(d_fake, d_real[:1])


def test_relativistic_gradients_push_the_right_way():
    d_fake = torch.zeros(4, requires_grad=True)
    relativistic_g(d_fake, torch.zeros(4)).backward()
    assert (d_fake.grad < 0).all()  # generator raises D(fake)


def test_approx_r1_matches_sigma_squared_gradient_norm_for_linear_d():
    w = torch.tensor([0.5, -2.0, 1.0])
    d_fn = lambda x: x @ w  # noqa: E731 — ‖∇D‖² = ‖w‖² everywhere
    x = torch.randn(20000, 3, generator=torch.Generator().manual_seed(0))
    sigma = 0.01
    r = approx_r1(d_fn, x, sigma, generator=torch.Generator().manual_seed(1))
    assert float(r) == pytest.approx(sigma**2 * float(w @ w), rel=0.05)
    with pytest.raises(ValueError, match="sigma"):
        approx_r1(d_fn, x, 0.0)
