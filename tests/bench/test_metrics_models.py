"""The model-backed dimensions, loaded through the real loading code from tiny random models saved in the layout."""
import numpy as np
import pytest
import torch

from uvc_bench.metrics import MetricsConfig, Scorer, aggregate
from uvc_bench.metrics.layout import ENTRIES
from uvc_data.errors import BadInputError, ConfigError

MODEL_DIMS = ["subject_consistency", "background_consistency", "aesthetic_quality"]


@pytest.fixture(scope="module")
def scorer(tiny_weights):
    return Scorer(MetricsConfig(weights_dir=str(tiny_weights), dimensions=MODEL_DIMS, batch_size=4))


def test_backends_loaded(scorer):
    assert scorer.backends == {"subject_consistency": "dino_vitb16", "background_consistency": "clip_vitb32",
                               "aesthetic_quality": "laion_v1"}
    assert scorer.missing == {}


def test_identical_frames_are_fully_consistent(scorer, texture):
    frames = np.repeat(texture[None], 6, axis=0)
    s = scorer.score_video(frames, 16)
    for d in ("subject_consistency", "background_consistency"):
        assert s[d].value == pytest.approx(1.0, abs=1e-6) and s[d].weight == 5


def test_changing_frames_are_less_consistent(scorer, texture):
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, (6, *texture.shape), dtype=np.uint8)
    s = scorer.score_video(frames, 16)
    assert s["subject_consistency"].value < 0.9999


def test_batching_does_not_change_scores(tiny_weights, scorer):
    rng = np.random.default_rng(2)
    frames = rng.integers(0, 256, (7, 90, 150, 3), dtype=np.uint8)
    one = Scorer(MetricsConfig(weights_dir=str(tiny_weights), dimensions=MODEL_DIMS, batch_size=1))
    a, b = scorer.score_video(frames, 8), one.score_video(frames, 8)
    for d in MODEL_DIMS:
        assert a[d].value == pytest.approx(b[d].value, abs=1e-5)


def test_aesthetic_is_head_of_normalised_clip_feature_over_ten(tiny_weights, scorer):
    from transformers import CLIPVisionModelWithProjection

    from uvc_bench.metrics.preprocess import clip_transform, to_nchw

    rng = np.random.default_rng(3)
    frames = rng.integers(0, 256, (3, 64, 80, 3), dtype=np.uint8)
    clip = CLIPVisionModelWithProjection.from_pretrained(tiny_weights / ENTRIES["clip_vitl14"].relpath).eval()
    state = torch.load(tiny_weights / ENTRIES["laion_aesthetic"].relpath, weights_only=True)
    with torch.no_grad():
        f = clip(pixel_values=clip_transform(to_nchw(frames))).image_embeds
        f = f / f.norm(dim=-1, keepdim=True)
        expected = ((f @ state["weight"].T + state["bias"]) / 10).mean().item()
    assert scorer.score_video(frames, 16)["aesthetic_quality"].value == pytest.approx(expected, abs=1e-5)


def test_aggregate_over_videos(scorer, texture):
    frames = np.repeat(texture[None], 3, axis=0)
    agg = aggregate([scorer.score_video(frames, 16), scorer.score_video(frames[:2], 16)])
    assert agg["subject_consistency"] == pytest.approx(1.0, abs=1e-6)


def test_missing_weights_are_reported_not_substituted(tmp_path):
    s = Scorer(MetricsConfig(weights_dir=str(tmp_path), dimensions=MODEL_DIMS))
    assert s.backends == {}
    assert str(tmp_path / "dino_vitb16" / "config.json") in s.missing["subject_consistency"]
    assert "weights_dir" in s.missing["aesthetic_quality"]


def test_wrong_head_shape_is_rejected(tiny_weights, tmp_path):
    import shutil

    root = tmp_path / "w"
    shutil.copytree(tiny_weights, root)
    torch.save(torch.nn.Linear(768, 1).state_dict(), root / ENTRIES["laion_aesthetic"].relpath)
    with pytest.raises(BadInputError, match="Linear\\(768→1\\)"):
        Scorer(MetricsConfig(weights_dir=str(root), dimensions=["aesthetic_quality"]))


def test_bad_inputs(scorer):
    with pytest.raises(BadInputError, match="uint8"):
        scorer.score_video(np.zeros((4, 8, 8, 3), np.float32), 16)
    with pytest.raises(BadInputError, match="at least 2 frames"):
        scorer.score_video(np.zeros((1, 8, 8, 3), np.uint8), 16)
    with pytest.raises(BadInputError, match="fps"):
        scorer.score_video(np.zeros((4, 8, 8, 3), np.uint8), 0)
    with pytest.raises(ConfigError, match="dimensions"):
        Scorer(MetricsConfig(dimensions=["subject_consistancy"]))
    with pytest.raises(ConfigError, match="backend.dynamic_degree"):
        Scorer(MetricsConfig(backend={"dynamic_degree": "fast"}))


def test_image_features_for_fidelity(scorer, texture):
    f = scorer.image_features(np.repeat(texture[None], 2, axis=0))
    assert f.shape == (2, 16) and np.allclose(np.linalg.norm(f, axis=1), 1)
