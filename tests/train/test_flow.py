import math

import pytest
import torch

from vdot_train import flow


def test_shift_formula_values():
    assert flow.shift_sigma(0.5, 5.0) == pytest.approx(2.5 / 3.0)
    assert flow.shift_sigma(0.25, 16.0) == pytest.approx(4.0 / 4.75)
    s = torch.tensor([0.0, 0.3, 1.0])
    assert torch.allclose(flow.shift_sigma(s, 1.0), s)
    out = flow.shift_sigma(s, 12.0)
    assert out[0] == 0 and out[-1] == pytest.approx(1.0)
    assert out[1] == pytest.approx(12 * 0.3 / (1 + 11 * 0.3))
    with pytest.raises(ValueError, match="shift"):
        flow.shift_sigma(0.5, 0.0)


def test_student_timesteps_official_training_warp():
    t = flow.student_timesteps((1000, 750, 500, 250), shift=5.0)
    assert torch.allclose(t, torch.tensor([1000.0, 937.5, 2500 / 3, 625.0]), atol=1e-3)
    # Self-Forcing indexes its 1000-step shifted training schedule (plus a trailing 0) at 1000 - s
    base = flow.shift_sigma(torch.linspace(1.0, 0.0, 1001, dtype=torch.float64)[:-1], 5.0) * 1000
    table = torch.cat([base, torch.zeros(1, dtype=torch.float64)])
    idx = 1000 - torch.tensor([1000, 750, 500, 250])
    assert torch.allclose(t.double(), table[idx], atol=1e-3)


def test_inference_timesteps_official_list_and_relation_to_training_warp():
    t_inf = flow.inference_timesteps(4, shift=16.0)
    assert torch.allclose(t_inf, torch.tensor([999.9, 979.5, 941.1, 841.9]), atol=0.06)
    # same warp as training applied to 0.999·(s/1000): UniPC starts from sigma_max = 1 - 1/1000
    sig_train = torch.tensor([1000.0, 750, 500, 250], dtype=torch.float64) / 1000
    expect = flow.shift_sigma(0.999 * sig_train, 16.0) * 1000
    assert torch.allclose(t_inf.double(), expect, atol=1e-3)
    # and it is not exactly the training warp at shift 16 (differs by up to ~0.2 timesteps)
    diff = (flow.student_timesteps(shift=16.0) - t_inf).abs()
    assert 0.05 < float(diff.max()) < 0.3


def test_official_student_schedule_is_two_lists():
    sched = flow.student_schedule("official")
    # the generator's labels: the official rollout's hard-coded list
    assert torch.allclose(sched.labels, torch.tensor(flow.OFFICIAL_GENERATOR_LABELS), atol=2e-4)
    # the re-noise levels: Wan's UniPC 1000-step table at shift 16, integer timesteps [999, 979, 941, 841], each mapped
    # back to σ through the table's second entry of that integer timestep (computed independently here)
    base = torch.linspace(float(torch.tensor(0.999, dtype=torch.float32)), 0.0, 1001, dtype=torch.float64)[:-1]
    table = 16 * base / (1 + 15 * base)
    ints = (table * 1000).long()
    assert ints[[0, 250, 500, 750]].tolist() == [999, 979, 941, 841]
    second = [int((ints == v).nonzero()[1]) if int((ints == v).sum()) > 1 else int((ints == v).nonzero()[0])
              for v in (999, 979, 941, 841)]
    assert torch.allclose(sched.sigmas, table[second].float(), atol=0)
    assert torch.allclose(sched.sigmas, torch.tensor([0.99987, 0.97983, 0.94173, 0.84122]), atol=1e-5)
    # labels and true noise levels disagree (what the released student was trained with)
    assert float((sched.labels / 1000 - sched.sigmas)[1:].abs().min()) > 0.01


def test_consistent_student_schedule_is_the_samplers_steps():
    sched = flow.student_schedule("consistent")
    assert torch.allclose(sched.labels, flow.inference_timesteps(4, 16.0), atol=1e-4)
    assert torch.allclose(sched.labels, sched.sigmas * 1000, atol=1e-4)
    with pytest.raises(ValueError, match="official"):
        flow.student_schedule("shift5")


def test_student_timesteps_rejects_bad_lists():
    with pytest.raises(ValueError, match="decreasing"):
        flow.student_timesteps((500, 750))
    with pytest.raises(ValueError, match="decreasing"):
        flow.student_timesteps((1200, 500))


def test_sample_timesteps_range_shift_and_reproducibility():
    g = torch.Generator().manual_seed(0)
    t5 = flow.sample_timesteps(4000, shift=5.0, generator=g)
    assert t5.shape == (4000,) and t5.dtype == torch.float32
    assert float(t5.min()) >= 20.0 and float(t5.max()) <= 980.0
    t1 = flow.sample_timesteps(4000, shift=1.0, generator=torch.Generator().manual_seed(0))
    assert float(t5.mean()) > float(t1.mean()) + 150  # the shift pushes mass to high noise
    again = flow.sample_timesteps(4000, shift=5.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(t5, again)
    with pytest.raises(ValueError):
        flow.sample_timesteps(3, shift=5.0, t_min=900, t_max=100)


def test_official_draw_is_integer_in_20_980_before_the_shift():
    g = torch.Generator().manual_seed(0)
    t = flow.sample_timesteps(20000, 5.0, generator=g, draw_min=20, draw_max=980)
    low = 1000 * flow.shift_sigma(0.02, 5.0)  # 92.59
    assert float(t.min()) == pytest.approx(low, abs=1e-3) and float(t.max()) == 980.0
    # the clamp-only draw puts ≈ 2 % of the mass below 92.6
    t_clamp = flow.sample_timesteps(20000, 5.0, generator=torch.Generator().manual_seed(0))
    assert 0.01 < float((t_clamp < low - 1e-3).float().mean()) < 0.03
    with pytest.raises(ValueError, match="draw_min"):
        flow.sample_timesteps(3, 5.0, draw_min=500, draw_max=500)


def test_noise_velocity_x0_round_trip():
    g = torch.Generator().manual_seed(1)
    x0 = torch.randn(3, 4, 2, 5, 6, generator=g)
    eps = torch.randn(x0.shape, generator=g)
    t = torch.tensor([100.0, 500.0, 900.0])
    x_t = flow.add_noise(x0, eps, t)
    assert torch.allclose(x_t[1], 0.5 * x0[1] + 0.5 * eps[1])
    v = flow.velocity_target(x0, eps)
    assert torch.allclose(flow.x0_from_velocity(x_t, v, t), x0, atol=1e-5)
    assert torch.allclose(flow.velocity_from_x0(x_t, x0, t), v, atol=1e-4)
    # scalar t broadcasts too
    assert torch.allclose(flow.add_noise(x0, eps, 1000.0), eps)
    with pytest.raises(ValueError, match="timesteps"):
        flow.add_noise(x0, eps, torch.tensor([1.0, 2.0]))


def test_renoise_and_cfg():
    x0 = torch.randn(2, 3)
    assert torch.allclose(flow.renoise(x0, torch.zeros(2)), x0)
    a = flow.renoise(x0, 500.0, generator=torch.Generator().manual_seed(3))
    b = flow.renoise(x0, 500.0, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.allclose(a, x0)
    u, c = torch.randn(2, 3), torch.randn(2, 3)
    assert torch.allclose(flow.cfg(u, c, 1.0), c)
    assert torch.allclose(flow.cfg(u, c, 3.0), u + 3 * (c - u))
    assert math.isclose(float(flow.cfg(torch.tensor(1.0), torch.tensor(2.0), 0.0)), 1.0)
