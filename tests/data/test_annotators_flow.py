"""Middlebury colour wheel (forward + inverse), DIS flow on a known shift, the RAFT backend (native raft-things) against
the official RAFT as an oracle, and its loading errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.data.test_annotators_base import make_sample
from uvc_data.annotators import build_annotator, dis_flow, flow_from_color, flow_to_color, make_colorwheel
from uvc_data.errors import MissingWeightsError


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


def test_raft_missing_weights_names_the_field():
    ann = build_annotator("flow", {"backend": "raft", "raft_weights": "/nowhere/raft.pth"})
    with pytest.raises(MissingWeightsError, match="flow.raft_weights"):
        ann.load()
    s = ann.process(make_sample(_shifted_pair(2), ["flow", "t2v"]))
    assert s.tasks == ["t2v"] and "MissingWeightsError" in s.rejected["flow"]


def test_raft_wrong_checkpoint_names_the_field_and_the_keys(tmp_path):
    from safetensors.torch import save_file

    save_file({"conv.weight": torch.zeros(2, 2)}, str(tmp_path / "other.safetensors"))
    ann = build_annotator("flow", {"backend": "raft", "raft_weights": str(tmp_path / "other.safetensors")})
    with pytest.raises(MissingWeightsError, match="flow.raft_weights") as e:
        ann.load()
    assert "unexpected keys: conv.weight" in str(e.value) and "missing keys: fnet.conv1.weight" in str(e.value)


@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning")  # the oracle's autocast
def test_raft_backend_renders_the_official_flow(tmp_path):
    """3 frames of 130×170 (padded bottom/right to 136×176, cropped back), pairs in batches of 1, against the official
    RAFT on the same random raft-things-format checkpoint; 20 iterations."""
    from tests.nets.raft_oracle import oracle_args, oracle_raft, random_official_state, save_official, textured_video
    from uvc_data.annotators import motion_magnitude

    state = random_official_state(1, flow_scale=0.3)
    ckpt = save_official(state, tmp_path / "raft-things.pth")
    frames = textured_video(3, 130, 170, [2, 5], seed=4)
    raft_cls, _ = oracle_raft()
    ref = raft_cls(oracle_args())
    ref.load_state_dict({k.replace("module.", "", 1): v for k, v in state.items()})
    ref.eval()
    x = torch.nn.functional.pad(torch.from_numpy(frames).permute(0, 3, 1, 2).float(), (0, 6, 0, 6), mode="replicate")
    with torch.no_grad():
        _, up = ref(x[:-1], x[1:], iters=20, test_mode=True)
    flows_ref = up[:, :, :130, :170].permute(0, 2, 3, 1).numpy()  # (2, 130, 170, 2)
    assert np.abs(flows_ref).max() > 1.0

    ann = build_annotator("flow", {"backend": "raft", "raft_weights": str(ckpt), "batch_size": 1, "max_radius": 8.0})
    ann.setup()
    assert ann.unavailable is None, ann.unavailable
    flows = ann.model(frames)  # (2, 130, 170, 2)
    np.testing.assert_allclose(flows, flows_ref, atol=1e-4, rtol=0)
    s = ann.process(make_sample(frames, ["flow"]))
    video = s.conditions["flow"]
    expected = flow_to_color(np.concatenate([flows_ref[:1], flows_ref]), 8.0)
    assert video.shape == (3, 130, 170, 3) and np.abs(video.astype(int) - expected).max() <= 1
    assert s.signals["flow_motion"] == pytest.approx(motion_magnitude(flows_ref, 170), rel=1e-4)
