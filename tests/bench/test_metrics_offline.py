"""Offline estimators with known answers, and the reference backends' loading errors on this CPU machine."""
import numpy as np
import pytest

from uvc_bench.metrics import MetricsConfig, Scorer
from uvc_bench.metrics.dims.dynamic import dis_flows, video_is_dynamic
from uvc_bench.metrics.dims.motion import dis_interpolate, interpolation_smoothness
from uvc_bench.metrics.flow import DISFlow
from uvc_data.errors import BadInputError
from uvc_data.imports import available


def translate(img, dx, dy=0):
    return np.roll(np.roll(img, dx, axis=1), dy, axis=0)


def test_translation_by_k_pixels_has_flow_k(texture):
    flow = DISFlow()(texture, translate(texture, 5, -2))
    inner = flow[20:-20, 20:-20]
    assert np.median(inner[..., 0]) == pytest.approx(5, abs=0.25)
    assert np.median(inner[..., 1]) == pytest.approx(-2, abs=0.25)


def test_static_video_is_not_dynamic(texture):
    frames = np.repeat(texture[None], 33, axis=0)
    assert not video_is_dynamic(frames, 16, dis_flows)


def test_moving_video_is_dynamic_and_threshold_matters(texture):
    fast = np.stack([translate(texture, 4 * t) for t in range(33)])  # 8 px per sampled pair > 6·120/256 = 2.8
    slow = np.stack([translate(texture, (t // 8)) for t in range(33)])  # 1 px jumps on 4 of 16 pairs
    assert video_is_dynamic(fast, 16, dis_flows)
    assert not video_is_dynamic(slow, 16, dis_flows)


def test_flows_are_on_frames_padded_to_8(texture):
    frames = np.stack([texture[:117, :197]] * 2)
    (flow,) = list(dis_flows(frames))
    assert flow.shape == (120, 200, 2)


def test_identical_frames_are_perfectly_smooth(texture):
    frames = np.repeat(texture[None], 9, axis=0)
    assert interpolation_smoothness(frames, dis_interpolate) == pytest.approx(1.0, abs=1e-3)


def test_linear_motion_is_smoother_than_jitter(texture):
    rng = np.random.default_rng(0)
    linear = np.stack([translate(texture, 2 * t) for t in range(17)])
    jitter = np.stack([translate(texture, 2 * t + int(rng.integers(-4, 5)) * (t % 2), int(rng.integers(-3, 4)) * (t % 2))
                       for t in range(17)])
    s_lin = interpolation_smoothness(linear, dis_interpolate)
    s_jit = interpolation_smoothness(jitter, dis_interpolate)
    assert s_lin > 0.98 and s_lin > s_jit + 0.02


def test_interpolated_midpoint_of_translation(texture):
    even = np.stack([texture, translate(texture, 6)])
    mid = dis_interpolate(even)[0]
    err = np.abs(mid[20:-20, 20:-20] - translate(texture, 3)[20:-20, 20:-20].astype(np.float32))
    assert err.mean() < 3.0


def test_smoothness_needs_three_frames(texture):
    with pytest.raises(BadInputError, match="3 frames"):
        interpolation_smoothness(np.stack([texture] * 2), dis_interpolate)


def test_scorer_offline_backends_by_name(texture):
    s = Scorer(MetricsConfig(dimensions=["motion_smoothness", "dynamic_degree"],
                             backend={"motion_smoothness": "offline", "dynamic_degree": "offline"}))
    assert s.backends == {"motion_smoothness": "dis_interp_offline", "dynamic_degree": "dis_flow_offline"}
    out = s.score_video(np.repeat(texture[None], 9, axis=0), 16)
    assert out["dynamic_degree"].value == 0.0 and out["dynamic_degree"].backend == "dis_flow_offline"


def test_auto_records_the_fallback_and_reference_never_substitutes(tmp_path):
    default = Scorer(MetricsConfig(weights_dir=str(tmp_path), dimensions=["dynamic_degree", "motion_smoothness"]))
    assert default.backends == {} and set(default.missing) == {"dynamic_degree", "motion_smoothness"}  # reference
    auto = Scorer(MetricsConfig(weights_dir=str(tmp_path), dimensions=["dynamic_degree", "motion_smoothness"],
                                backend={"dynamic_degree": "auto", "motion_smoothness": "auto"}))
    assert auto.backends == {"dynamic_degree": "dis_flow_offline", "motion_smoothness": "dis_interp_offline"}
    assert "raft" in auto.fallbacks["dynamic_degree"]
    ref = Scorer(MetricsConfig(weights_dir=str(tmp_path), dimensions=["dynamic_degree", "imaging_quality"],
                               backend={"dynamic_degree": "reference"}))
    assert ref.backends == {} and set(ref.missing) == {"dynamic_degree", "imaging_quality"}
    off = Scorer(MetricsConfig(dimensions=["subject_consistency"], backend={"subject_consistency": "offline"}))
    assert "no honest offline estimator" in off.missing["subject_consistency"]


@pytest.mark.parametrize("dim,key,fallback", [("dynamic_degree", "raft_things", "dis_flow_offline"),
                                              ("imaging_quality", "musiq_spaq", None),
                                              ("motion_smoothness", "amt_s", "dis_interp_offline")])
def test_unusable_reference_weights_are_reported_never_used(tmp_path, dim, key, fallback):
    """The three native reference nets need only their weight file; a file that is not the checkpoint is reported
    with its path (reference mode: missing; auto: the offline estimator under its own name, with the reason)."""
    from uvc_bench.metrics.layout import ENTRIES

    p = tmp_path / ENTRIES[key].relpath
    p.parent.mkdir(parents=True)
    p.write_bytes(b"truncated download")
    ref = Scorer(MetricsConfig(weights_dir=str(tmp_path), dimensions=[dim], backend={dim: "reference"}))
    assert ref.backends == {} and "unusable weights" in ref.missing[dim] and str(p) in ref.missing[dim]
    auto = Scorer(MetricsConfig(weights_dir=str(tmp_path), dimensions=[dim], backend={dim: "auto"}))
    if fallback:
        assert auto.backends == {dim: fallback} and str(p) in auto.fallbacks[dim]
    else:
        assert auto.backends == {} and str(p) in auto.missing[dim]
