import pytest
import torch

from vdot_train.losses.dmd import dmd_gradient, dmd_loss


def _x(seed, shape=(3, 4, 2, 5, 5)):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("normaliser", ["t_over_1000", "mean_abs", "none"])
def test_zero_when_fake_equals_real(normaliser):
    real, x0_hat = _x(0), _x(1)
    grad = dmd_gradient(real.clone(), real, x0_hat, torch.tensor([100.0, 500.0, 900.0]), normaliser)
    assert torch.count_nonzero(grad) == 0


def test_normalisers():
    fake, real, x0_hat = _x(0), _x(1), _x(2)
    t = torch.tensor([200.0, 500.0, 1000.0])
    raw = dmd_gradient(fake, real, x0_hat, t, "none")
    assert torch.allclose(raw, fake - real)
    scaled = dmd_gradient(fake, real, x0_hat, t, "t_over_1000")
    assert torch.allclose(scaled[0], 0.2 * raw[0]) and torch.allclose(scaled[2], raw[2])
    normed = dmd_gradient(fake, real, x0_hat, t, "mean_abs")
    denom = (x0_hat - real).abs().mean(dim=(1, 2, 3, 4))
    assert torch.allclose(normed[1], raw[1] / denom[1])
    with pytest.raises(ValueError, match="normaliser"):
        dmd_gradient(fake, real, x0_hat, t, "max")  # type: ignore[arg-type]


def test_loss_gradient_is_grad_over_numel_and_value():
    fake, real = _x(0), _x(1)
    x0_hat = _x(2).bfloat16().requires_grad_(True)
    grad = dmd_gradient(fake, real, x0_hat, torch.tensor([300.0, 600.0, 900.0]))
    loss = dmd_loss(x0_hat, grad)
    loss.backward()
    assert torch.allclose(x0_hat.grad.float(), grad / grad.numel(), rtol=1e-2, atol=1e-7)  # bf16 grad
    assert float(loss.detach()) == pytest.approx(0.5 * float(grad.pow(2).mean()), rel=1e-5)
    x = _x(2).requires_grad_(True)
    dmd_loss(x, grad, reduction="sum").backward()
    assert torch.allclose(x.grad, grad, atol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        dmd_loss(x, grad[:1])
