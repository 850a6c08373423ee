import ot
import pytest
import torch

from vdot_train.losses.sinkhorn import sinkhorn_log, squared_cost


def _clouds(seed, n=30, m=24, d=3, shift=0.5, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=dtype), torch.randn(m, d, generator=g, dtype=dtype) + shift


@pytest.mark.parametrize("dtype,atol", [(torch.float64, 1e-8), (torch.float32, 2e-5)])
def test_agrees_with_pot_sinkhorn_log(dtype, atol):
    x, y = _clouds(0, dtype=dtype)
    eps = 0.5
    res = sinkhorn_log(x, y, eps=eps, iters=2000, tol=1e-9 if dtype == torch.float64 else 1e-6)
    a = torch.full((x.shape[0],), 1 / x.shape[0], dtype=dtype)
    b = torch.full((y.shape[0],), 1 / y.shape[0], dtype=dtype)
    M = ot.dist(x, y)  # squared Euclidean
    stop = 1e-10 if dtype == torch.float64 else 1e-6  # float32: POT's default 1e-9 never converges
    P = ot.sinkhorn(a, b, M, eps, method="sinkhorn_log", stopThr=stop, numItermax=20000)
    cost = ot.sinkhorn2(a, b, M, eps, method="sinkhorn_log", stopThr=stop, numItermax=20000)
    assert torch.allclose(res.plan, P, atol=atol)
    assert float(res.cost) == pytest.approx(float(cost), rel=1e-4)
    assert torch.allclose(squared_cost(x, y), M, atol=1e-4)
    assert res.err < 1e-5


def test_marginals_value_and_nonuniform_weights_vs_pot():
    x, y = _clouds(1)
    g = torch.Generator().manual_seed(5)
    a = torch.rand(x.shape[0], generator=g, dtype=torch.float64) + 0.1
    b = torch.rand(y.shape[0], generator=g, dtype=torch.float64) + 0.1
    a, b = a / a.sum(), b / b.sum()
    res = sinkhorn_log(x, y, eps=0.3, iters=5000, a=a, b=b, tol=1e-11)
    assert torch.allclose(res.plan.sum(1), a, atol=1e-9) and torch.allclose(res.plan.sum(0), b, atol=1e-12)
    P = ot.sinkhorn(a, b, ot.dist(x, y), 0.3, method="sinkhorn_log", stopThr=1e-12, numItermax=50000)
    assert torch.allclose(res.plan, P, atol=1e-8)
    entropic = res.cost + 0.3 * (res.plan * res.plan.log()).sum()
    assert float(res.value) == pytest.approx(float(entropic), rel=1e-10)


def test_batched_equals_loop_and_low_precision_is_upcast():
    xs = torch.randn(3, 20, 4)
    ys = torch.randn(3, 25, 4)
    batched = sinkhorn_log(xs, ys, eps=0.2, iters=80)
    assert batched.plan.shape == (3, 20, 25) and batched.cost.shape == (3,)
    for i in range(3):
        single = sinkhorn_log(xs[i], ys[i], eps=0.2, iters=80)
        assert torch.allclose(batched.plan[i], single.plan, atol=1e-6)
    half = sinkhorn_log(xs.bfloat16(), ys.bfloat16(), eps=0.2, iters=80)
    assert half.plan.dtype == torch.float32 and torch.isfinite(half.plan).all()


def test_fixed_iterations_without_tol_and_early_stop_with_tol():
    x, y = _clouds(2, dtype=torch.float32)
    assert sinkhorn_log(x, y, iters=7).n_iter == 7
    early = sinkhorn_log(x, y, eps=1.0, iters=1000, tol=1e-4)
    assert early.n_iter < 1000 and early.err < 1e-4


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="same leading dims"):
        sinkhorn_log(torch.randn(5, 3), torch.randn(5, 2))
    with pytest.raises(ValueError, match="eps"):
        sinkhorn_log(torch.randn(5, 3), torch.randn(4, 3), eps=0.0)
    with pytest.raises(ValueError, match="one weight per point"):
        sinkhorn_log(torch.randn(5, 3), torch.randn(4, 3), a=torch.ones(4) / 4)
