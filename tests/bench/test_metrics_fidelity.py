import math

import numpy as np
import pytest

from uvc_bench.metrics import MetricsConfig, Scorer
from uvc_bench.metrics.fidelity import condition_fidelity, condition_fidelity_report
from uvc_bench.metrics.fidelity_measures import edge_f1, masked_psnr
from uvc_data.errors import BadInputError
from uvc_data.vcu import build_vcu

T = 5


@pytest.fixture(scope="module")
def clip(texture):
    return np.stack([np.roll(texture, 3 * t, axis=1) for t in range(T)])  # 3 px per frame to the right


def noisy(x, seed=0, amount=40):
    rng = np.random.default_rng(seed)
    return np.clip(x.astype(np.int16) + rng.integers(-amount, amount + 1, x.shape), 0, 255).astype(np.uint8)


def test_outpainting_kept_region(clip):
    mask = np.full(clip.shape[:3], 255, np.uint8)
    mask[:, 30:90, 50:150] = 0  # centre kept
    vcu = build_vcu("outpainting", "p", clip, {"outpaint_mask": mask})
    out = clip.copy()
    out[:, :20] = noisy(out[:, :20])  # changes only the generated border
    f = condition_fidelity("outpainting", out, vcu)
    assert math.isinf(f["kept_psnr"]) and f["kept_ssim"] == pytest.approx(1.0)
    g = condition_fidelity("outpainting", noisy(clip), vcu)
    assert 10 < g["kept_psnr"] < 30 and g["kept_ssim"] < 0.9


def test_extension_keeps_the_first_frame(clip):
    vcu = build_vcu("extension", "p", clip, {})
    out = clip.copy()
    out[1:] = 0
    assert math.isinf(condition_fidelity("firstframe", out, vcu)["kept_psnr"])


def test_gray_consistency(clip):
    from uvc_data.annotators.gray import to_gray3

    vcu = build_vcu("gray", "p", clip, {"gray": to_gray3(clip)})
    good = condition_fidelity("grey", clip, vcu)
    bad = condition_fidelity("gray", 255 - clip, vcu)
    assert math.isinf(good["gray_psnr"]) and good["gray_l1"] == 0
    assert bad["gray_l1"] > 5 and bad["gray_psnr"] < 30 and "kept_psnr" not in good


def test_flow_epe_against_the_source(clip):
    from uvc_data.annotators.flow import dis_flow
    from uvc_data.annotators.flow_color import flow_to_color

    flows = dis_flow(clip)
    control = flow_to_color(np.concatenate([flows[:1], flows]))
    vcu = build_vcu("flow", "p", clip, {"flow": control})
    static = np.repeat(clip[:1], T, axis=0)
    assert condition_fidelity("flow", clip, vcu, source=clip)["flow_epe"] == pytest.approx(0.0, abs=1e-6)
    assert condition_fidelity("flow", static, vcu, source=clip)["flow_epe"] == pytest.approx(3.0, abs=0.5)
    rep = condition_fidelity_report("flow", clip, vcu)
    assert "flow_epe" in rep.skipped and "scale" in rep.skipped["flow_epe"]
    bad = condition_fidelity("flow", np.stack([np.roll(clip[0], -3 * t, axis=0) for t in range(T)]), vcu)
    assert rep.values["flow_epe_normalized"] < 0.3 < bad["flow_epe_normalized"]


def test_scribble_edge_f1(clip):
    from uvc_data.annotators.scribble import ScribbleAnnotator, ScribbleConfig

    lines = ScribbleAnnotator(ScribbleConfig()).lines(clip)
    vcu = build_vcu("firstframe+scribble", "p", clip, {"scribble": lines})
    good = condition_fidelity("firstframe+scribble", clip, vcu)
    bad = condition_fidelity("firstframe+scribble", noisy(np.roll(clip, 40, axis=2), amount=80), vcu)
    assert good["edge_f1"] == pytest.approx(1.0) and bad["edge_f1"] < 0.8
    assert math.isinf(good["kept_psnr"])  # the real first frame is kept


def test_edge_f1_tolerance():
    a = np.zeros((20, 20), bool)
    a[10, 2:18] = True
    b = np.roll(a, 2, axis=0)
    assert edge_f1(a, b, tolerance=2)[2] == pytest.approx(1.0)
    assert edge_f1(a, b, tolerance=1)[2] == 0.0


def test_reference_similarity(tiny_weights, clip):
    ref = clip[0]
    vcu = build_vcu("r2v", "p", None, {"ref_images": [ref]}, num_frames=T, size=clip.shape[1:3])
    skipped = condition_fidelity_report("r2v", clip, vcu)
    assert skipped.values == {} and "CLIP" in skipped.skipped["ref_clip_similarity"]
    scorer = Scorer(MetricsConfig(weights_dir=str(tiny_weights), dimensions=["background_consistency"]))
    same = condition_fidelity("R2v", clip, vcu, image_features=scorer.image_features)
    assert same["ref_clip_similarity"] == pytest.approx(1.0, abs=1e-6)
    other = condition_fidelity("r2v", np.random.default_rng(0).integers(0, 256, clip.shape, dtype=np.uint8), vcu,
                               image_features=scorer.image_features)
    assert other["ref_clip_similarity"] < 0.999


def test_depth_is_skipped_with_reason_and_shapes_are_checked(clip):
    vcu = build_vcu("depth", "p", clip, {"depth": clip})
    rep = condition_fidelity_report("depth", clip, vcu)
    assert rep.values == {} and "depth_reannotation" in rep.skipped
    with pytest.raises(BadInputError, match="does not match the VCU"):
        condition_fidelity("depth", clip[:3], vcu)


def test_masked_psnr_by_hand():
    a = np.zeros((2, 2), np.uint8)
    b = np.array([[10, 0], [0, 0]], np.uint8)
    assert masked_psnr(a, b, np.array([[True, True], [False, False]])) == pytest.approx(10 * math.log10(255**2 / 50))
