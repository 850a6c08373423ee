import pytest
import torch

from vdot_train.losses.denoise import denoising_loss


def test_denoising_loss_zero_at_target_and_trains_fake_score_only():
    x0_hat = torch.randn(2, 3, requires_grad=True)
    eps = torch.randn(2, 3)
    v = (eps - x0_hat).detach().requires_grad_(True)
    assert float(denoising_loss(v, x0_hat, eps).detach()) == 0.0
    loss = denoising_loss(v + 1.0, x0_hat, eps)
    loss.backward()
    assert float(loss.detach()) == pytest.approx(1.0) and x0_hat.grad is None and v.grad is not None
