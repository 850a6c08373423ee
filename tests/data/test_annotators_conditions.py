"""Gray, scribble, outpainting masks and depth (tiny Depth Anything built from a config, real loading path)."""
from __future__ import annotations

import numpy as np
import pytest

from tests.data.test_annotators_base import make_sample
from uvc_data.annotators import build_annotator
from uvc_data.annotators.depth import minmax_to_uint8
from uvc_data.annotators.masks import outpaint_borders
from uvc_data.vcu import build_vcu


def _square(t=2, h=48, w=64):
    f = np.zeros((t, h, w, 3), np.uint8)
    f[:, 12:36, 16:48] = (200, 40, 90)
    return f


def test_gray_is_luma_in_three_channels():
    f = _square()
    s = build_annotator("gray").process(make_sample(f, ["gray"]))
    g = s.conditions["gray"]
    assert g.shape == f.shape and (g[..., 0] == g[..., 1]).all() and (g[..., 1] == g[..., 2]).all()
    assert g[0, 20, 20, 0] == round(0.299 * 200 + 0.587 * 40 + 0.114 * 90)  # BT.601 luma
    assert g[0, 0, 0, 0] == 0


@pytest.mark.parametrize("backend", ["xdog", "canny"])
def test_scribble_white_lines_on_black_along_edges(backend):
    s = build_annotator("scribble", {"backend": backend}).process(make_sample(_square(), ["scribble"]))
    sc = s.conditions["scribble"]
    assert sc.shape == (2, 48, 64, 3) and (sc[..., 0] == sc[..., 2]).all()
    line = sc[0, ..., 0] > 127
    edge = np.zeros_like(line)
    edge[10:38, 14:50] = True
    edge[15:33, 19:45] = False  # a band around the square's outline
    assert line[edge].sum() > 40 and not line[~edge].any()  # lines only along the outline, flat areas black
    assert 0 < s.signals["scribble_density"] < 0.5


def test_outpaint_keeps_the_centre_expanded_by_the_ratio():
    # 832×480 is the kept centre expanded by 0.25 of its width on the left and right
    up, down, left, right = outpaint_borders(480, 832, 0.25, ["left", "right"])
    kept = 832 - left - right
    assert (up, down) == (0, 0) and kept == 555 and (left, right) == (139, 138)
    assert outpaint_borders(480, 832, 0.25, ["up"]) == (96, 0, 0, 0)  # 480 / 1.25 = 384 kept
    f = np.full((3, 48, 96, 3), 100, np.uint8)
    s = build_annotator("outpaint", {"directions": ["left", "right", "up", "down"]}).process(
        make_sample(f, ["outpainting", "extension"]))
    m = s.conditions["outpaint_mask"]
    assert m.shape == (3, 48, 96) and m.dtype == np.uint8 and set(np.unique(m)) == {0, 255}
    assert m[0, 24, 48] == 0 and m[0, 0, 0] == 255 and m[0, 24, 0] == 255 and m[0, 0, 48] == 255
    assert (m[0, 8:40, 16:80] == 0).all() and m[0, 7, 48] == 255 and m[0, 24, 15] == 255  # 64×32 kept
    vcu = build_vcu("outpainting", "", f, s.conditions)  # VACE conventions: border gray, mask 1 = generate
    assert vcu.frames[0, 0, 0].tolist() == [0, 0, 0] and vcu.masks[0, 0, 0] == 1 and vcu.masks[0, 24, 48] == 0


def test_depth_minmax():
    d = np.array([[1.0, 3.0], [2.0, 5.0]])
    out = minmax_to_uint8(d)
    assert out.shape == (2, 2, 3) and out[..., 0].tolist() == [[0, 127], [63, 255]]
    assert minmax_to_uint8(np.ones((2, 2))).max() == 0


def test_depth_without_weights_rejects_depth_tasks():
    s = build_annotator("depth").process(make_sample(_square(), ["depth", "firstframe+depth", "gray"]))
    assert s.tasks == ["gray"] and "depth" not in s.conditions
    assert s.rejected["depth"].startswith("condition depth unavailable: MissingWeightsError")
    assert "depth.weights" in s.rejected["depth"]


@pytest.fixture(scope="module")
def tiny_depth_dir(tmp_path_factory):
    from uvc_data.testing.tiny_models import save_tiny_depth_anything

    return save_tiny_depth_anything(tmp_path_factory.mktemp("depth"))


def test_depth_anything_from_a_local_folder(tiny_depth_dir):
    rng = np.random.default_rng(0)
    f = rng.integers(0, 255, (3, 40, 64, 3), dtype=np.uint8)
    ann = build_annotator("depth", {"weights": str(tiny_depth_dir), "batch_size": 2, "device": "cpu"})
    s = ann.process(make_sample(f, ["depth", "t2v"]))
    assert s.tasks == ["depth", "t2v"], s.rejected
    d = s.conditions["depth"]
    assert d.shape == (3, 40, 64, 3) and d.dtype == np.uint8 and (d[..., 0] == d[..., 2]).all()
    for frame in d:  # per-frame min-max to 0–255
        assert frame.min() == 0 and frame.max() == 255
    raw = ann.model(f[:1])[0]
    assert np.abs(minmax_to_uint8(raw).astype(int) - d[0]).max() <= 1  # batch of 1 vs 2: float rounding


def test_inpaint_and_reference_share_one_segmentation(monkeypatch):
    """The subject masks are computed once per sample and shared by both annotators (sample.scratch)."""
    import pickle

    import numpy as np

    from uvc_data.annotators import build_annotator
    from uvc_data.annotators.segment import Segmenter
    from uvc_data.sample import Provenance, Sample

    calls = []
    real_call = Segmenter.__call__

    def counting(self, frames):
        calls.append(frames.shape)
        return real_call(self, frames)

    monkeypatch.setattr(Segmenter, "__call__", counting)
    frames = np.zeros((5, 48, 64, 3), np.uint8)
    frames[:, 12:36, 20:44] = 255  # a bright square: the salient subject
    s = Sample("k-0000", frames, 8.0, Provenance("a.mp4", "a", 0, 0, 0, 1, 8, 64, 48), tasks=["inpainting", "r2v"])
    opts = {"segment": {"segmenters": ["saliency"]}}
    build_annotator("inpaint", opts).process(s)
    build_annotator("reference", opts).process(s)
    assert len(calls) == 1 and "inpaint_mask" in s.conditions and "ref_images" in s.conditions
    assert pickle.loads(pickle.dumps(s)).scratch == {}  # never travels between stages
