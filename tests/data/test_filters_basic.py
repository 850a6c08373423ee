"""Clip filters (duration, resolution, blur, static, motion) and the task-aware filter on annotator signals."""
from __future__ import annotations

import numpy as np
import pytest

from tests.data.test_annotators_base import make_sample
from uvc_data.errors import ConfigError, UnknownNameError
from uvc_data.filters import FILTERS, build_filter, frame_difference, laplacian_variance


def _texture(t=9, h=48, w=64, dx=0, seed=0):
    import cv2

    rng = np.random.default_rng(seed)
    tex = cv2.GaussianBlur(rng.integers(0, 255, (h, w + dx * t)).astype(np.uint8), (0, 0), 1.0)
    starts = [(t - 1 - i) * dx for i in range(t)]  # the content moves right by dx per frame
    return np.stack([np.repeat(tex[:, s : s + w, None], 3, -1) for s in starts])


def test_duration_and_resolution_reasons():
    s = build_filter("duration", {"min_seconds": 1.0}).process(make_sample(_texture(t=8), ["gray", "t2v"], fps=16))
    assert s.tasks == [] and s.rejected["clip"] == "duration: 0.50 s < min_seconds 1.0"
    assert s.rejected["gray"] == s.rejected["clip"] and s.signals["duration_s"] == 0.5
    ok = build_filter("duration", {"min_seconds": 0.25, "max_seconds": 2}).process(make_sample(_texture(), ["t2v"]))
    assert ok.tasks == ["t2v"]
    low = build_filter("resolution").process(make_sample(_texture(), ["t2v"], src=(640, 360)))
    assert low.rejected["clip"] == "resolution: source short side 360 < min_short_side 480"
    assert build_filter("resolution").process(make_sample(_texture(), ["t2v"], src=(1280, 720))).tasks == ["t2v"]


def test_blur_rejects_a_blurred_clip_only():
    import cv2

    sharp = _texture()
    blurred = np.stack([cv2.GaussianBlur(f, (0, 0), 4) for f in sharp])
    assert laplacian_variance(sharp[0, ..., 0]) > 10 * laplacian_variance(blurred[0, ..., 0])
    f = build_filter("blur", {"min_sharpness": 30})
    assert f.process(make_sample(sharp, ["t2v"])).tasks == ["t2v"]
    b = f.process(make_sample(blurred, ["t2v"]))
    assert b.tasks == [] and b.rejected["clip"].startswith("blur: sharpness (Laplacian variance)")
    assert f.stats["rejected"] == 1 and f.stats["passed"] == 1


def test_static_and_motion():
    still, moving = _texture(dx=0), _texture(dx=2)
    assert frame_difference(still) == 0 and frame_difference(moving) > 5
    st = build_filter("static").process(make_sample(still, ["extension"]))
    assert st.rejected["clip"].startswith("static: static clip") and st.signals["frame_difference"] == 0
    m = build_filter("motion", {"scale": 1.0, "stride": 1})
    moved = m.process(make_sample(moving, ["flow"]))
    assert moved.tasks == ["flow"] and moved.signals["motion"] == pytest.approx(2 / 64, rel=0.25)
    assert m.process(make_sample(still, ["flow"])).rejected["clip"].startswith("motion: too little motion")
    reused = make_sample(still, ["flow"])
    reused.signals["flow_motion"] = 0.05  # the flow annotator's measurement wins over recomputing
    assert m.process(reused).tasks == ["flow"] and m.stats["reused_flow"] == 1
    fast = make_sample(still, ["flow"])
    fast.signals["flow_motion"] = 0.5
    assert "too much motion" in m.process(fast).rejected["clip"]


def test_task_aware_rules_use_signals():
    f = build_filter("task_aware")
    s = make_sample(_texture(), ["pose", "reference+pose", "flow", "r2v", "gray", "t2v"])
    s.signals.update(pose_person_frac=0.2, pose_keypoints=12, pose_person_height=0.5, flow_motion=0.0005,
                     ref_subject_area=0.3, frame_difference=4.0)
    f.process(s)
    assert s.tasks == ["r2v", "gray", "t2v"]
    assert s.rejected["pose"] == "task_aware: person in 20% of frames < 50%"
    assert s.rejected["flow"].startswith("task_aware: motion 0.00050 < flow_min_motion")
    small = make_sample(_texture(), ["pose", "r2v"])
    small.signals.update(pose_person_frac=1.0, pose_keypoints=14, pose_person_height=0.05, ref_subject_area=0.001)
    f.process(small)
    assert small.tasks == [] and "of the frame height" in small.rejected["pose"] and "subject area" in small.rejected["r2v"]
    still = make_sample(_texture(), ["t2v", "gray"])
    still.signals["frame_difference"] = 0.1
    assert f.process(still).tasks == []
    unknown = f.process(make_sample(_texture(), ["pose"]))  # no signals: rules skipped and counted
    assert unknown.tasks == ["pose"] and f.stats["missing_pose_person_frac"] == 1


def test_filter_registry_and_configs():
    with pytest.raises(UnknownNameError, match="Did you mean 'motion'"):
        build_filter("motoin")
    with pytest.raises(ConfigError, match="duration.max_seconds"):
        build_filter("duration", {"min_seconds": 5, "max_seconds": 2})
    with pytest.raises(ConfigError, match="llm_judge.prompt"):
        build_filter("llm_judge", {"prompt": "no caption placeholder"})
    assert set(FILTERS.names()) == {"aesthetic", "blur", "duration", "llm_judge", "motion", "resolution", "static",
                                    "task_aware"}


def test_empty_samples_pass_untouched_and_errors_reject():
    s = make_sample(_texture(), [])
    f = build_filter("blur")
    assert f.process(s) is s and not s.signals and f.stats["skipped"] == 1
    broken = make_sample(_texture(), ["t2v"])
    broken.frames = np.zeros((0, 4, 4, 3), np.uint8)
    assert f.process(broken).rejected["clip"] == "blur: the clip has no frames"
    odd = make_sample(_texture(), ["t2v"])
    odd.frames = odd.frames[..., 0]  # (T, H, W): cv2 cannot convert it → an error reason, not a crash
    assert build_filter("blur").process(odd).rejected["clip"].startswith("blur: error: ")
