"""Middlebury colour wheel (forward + inverse), DIS flow on a known shift, RAFT's loading path."""
from __future__ import annotations

import numpy as np
import pytest

from tests.data.test_annotators_base import make_sample
from uvc_data.annotators import build_annotator, dis_flow, flow_from_color, flow_to_color, make_colorwheel
from uvc_data.errors import MissingDependencyError, MissingWeightsError
from uvc_data.imports import available


def test_wheel_primaries_and_directions():
    w = make_colorwheel()
    assert w.shape == (55, 3)
    assert w[0].tolist() == [255, 0, 0] and w[15].tolist() == [255, 255, 0] and w[21].tolist() == [0, 255, 0]
    assert w[25].tolist() == [0, 255, 255] and w[36].tolist() == [0, 0, 255] and w[49].tolist() == [255, 0, 255]
    # angle atan2(−v, −u) maps [−π, π] onto wheel positions [0, 54]: right (v = 0 → −π) → 0 (red),
    # left → 27 (cyan-blue)
    flow = np.zeros((1, 4, 2), np.float32)
    flow[0, 0], flow[0, 1], flow[0, 3] = (1, 0), (-1, 0), (0.5, 0)
    img = flow_to_color(flow, max_radius=1.0)
    assert img[0, 0].tolist() == w[0].tolist() == [255, 0, 0]
    assert img[0, 1].tolist() == w[27].tolist() == [0, 209, 255]
    assert img[0, 2].tolist() == [255, 255, 255]  # no motion = white
    assert img[0, 3].tolist() == [255, 127, 127]  # half radius: halfway to white
    assert flow_to_color(flow * 3, max_radius=1.0)[0, 0].tolist() == [191, 0, 0]  # beyond the range: darkened


def test_color_round_trip():
    rng = np.random.default_rng(0)
    ang = rng.uniform(-np.pi, np.pi, (40, 50))
    rad = rng.uniform(0.2, 1.0, (40, 50))
    rad[0, 0] = 1.0
    flow = np.stack([rad * np.cos(ang), rad * np.sin(ang)], -1).astype(np.float32) * 6.0
    back = flow_from_color(flow_to_color(flow), max_radius=6.0)
    assert np.abs(back - flow).max() < 0.1  # 1.7 % of the range (uint8 quantisation)
    dang = np.angle(np.exp(1j * (np.arctan2(back[..., 1], back[..., 0]) - ang)))
    assert np.abs(dang).mean() < 0.01


def _shifted_pair(dx: int, h=96, w=128):
    rng = np.random.default_rng(1)
    import cv2

    tex = cv2.GaussianBlur(rng.integers(0, 255, (h, w + 16)).astype(np.uint8), (0, 0), 1.5)
    a, b = tex[:, 8 : 8 + w], tex[:, 8 - dx : 8 - dx + w]  # b = a moved right by dx
    return np.stack([np.repeat(x[..., None], 3, -1) for x in (a, b)])


def test_dis_recovers_a_known_shift_and_annotator_renders_it():
    frames = _shifted_pair(3)
    flow = dis_flow(frames, "medium", 1.0)
    inner = flow[0, 16:-16, 16:-16]
    assert np.median(inner[..., 0]) == pytest.approx(3.0, abs=0.3)
    assert abs(np.median(inner[..., 1])) < 0.3
    half = dis_flow(frames, "medium", 0.5)[0, 16:-16, 16:-16]
    assert np.median(half[..., 0]) == pytest.approx(3.0, abs=0.5)  # rescaled back to full-size pixels
    ann = build_annotator("flow", {"max_radius": 6.0})
    s = ann.process(make_sample(frames, ["flow"]))
    video = s.conditions["flow"]
    assert video.shape == (2, 96, 128, 3) and video.dtype == np.uint8
    assert np.array_equal(video[0], video[1])  # frame 0 repeats the first flow
    back = flow_from_color(video[1, 16:-16, 16:-16], max_radius=6.0)
    assert np.median(back[..., 0]) == pytest.approx(3.0, abs=0.4)
    assert s.signals["flow_motion"] == pytest.approx(3.0 / 128, rel=0.2)


@pytest.mark.skipif(available("torchvision"), reason="checks the message when torchvision is absent")
def test_raft_without_torchvision_rejects_clearly():
    ann = build_annotator("flow", {"backend": "raft", "raft_weights": "/x/raft.pth"})
    s = ann.process(make_sample(_shifted_pair(2), ["flow", "t2v"]))
    assert s.tasks == ["t2v"]
    assert "condition flow unavailable: MissingDependencyError" in s.rejected["flow"]
    assert "pip install torchvision" in s.rejected["flow"]
    with pytest.raises(MissingDependencyError):
        ann.load()


@pytest.mark.skipif(not available("torchvision"), reason="torchvision not installable on CPU machines")
def test_raft_missing_weights_names_the_field():
    ann = build_annotator("flow", {"backend": "raft", "raft_weights": "/nowhere/raft.pth"})
    with pytest.raises(MissingWeightsError, match="flow.raft_weights"):
        ann.load()
