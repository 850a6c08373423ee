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


def test_scribble_edge_f1():
    from uvc_bench.metrics.fidelity import scribble_lines
    from uvc_data.annotators.scribble import ScribbleAnnotator, ScribbleConfig

    clip = np.stack([_shapes(t) for t in range(T)])  # edges to draw (a blurred noise texture gives none)
    lines = ScribbleAnnotator(ScribbleConfig()).lines(clip)
    assert scribble_lines(lines[..., 0]).mean() > 0.01  # the target is not empty (F1 of two empty sets is 1)
    vcu = build_vcu("firstframe+scribble", "p", clip, {"scribble": lines})
    good = condition_fidelity("firstframe+scribble", clip, vcu)
    bad = condition_fidelity("firstframe+scribble", noisy(np.roll(clip, 40, axis=2), amount=80), vcu)
    assert good["edge_f1"] == pytest.approx(1.0) and bad["edge_f1"] < 0.8
    assert math.isinf(good["kept_psnr"])  # the real first frame is kept


def _shapes(t: int, size=(120, 200)):
    import cv2

    f = np.full((*size, 3), 40, np.uint8)
    cv2.rectangle(f, (20 + 3 * t, 20), (90 + 3 * t, 80), (220, 180, 60), -1)
    cv2.circle(f, (140, 60 + 2 * t), 30, (60, 200, 230), -1)
    return cv2.GaussianBlur(f, (0, 0), 1.0)


def test_scribble_lines_survive_a_smaller_reading():
    """A control read smaller than it was drawn (area resampling turns 1-px white lines gray) keeps its lines: lines are
    what exceeds half of each frame's peak, which for full-strength lines is the usual > 127."""
    import cv2

    from uvc_bench.metrics.fidelity import scribble_lines
    from uvc_data.annotators.scribble import ScribbleAnnotator, ScribbleConfig

    clip = np.stack([_shapes(t) for t in range(T)])
    lines = ScribbleAnnotator(ScribbleConfig(backend="canny")).lines(clip)[..., 0]  # binary 255 lines
    assert (lines > 127).mean() > 0.01 and np.array_equal(scribble_lines(lines), lines > 127)

    def shrink(x):
        return np.stack([cv2.resize(f, (50, 30), interpolation=cv2.INTER_AREA) for f in x])

    small = shrink(lines)
    assert not (small > 127).any()  # what a fixed threshold saw: no line at all
    assert 0.02 < scribble_lines(small).mean() < 0.5
    assert not scribble_lines(np.zeros_like(small)).any()  # a black control has no lines
    noise = np.random.default_rng(0).integers(0, 12, small.shape).astype(np.uint8)
    assert not scribble_lines(noise).any()  # nor one with codec-level noise
    vcu = build_vcu("scribble", "p", shrink(clip), {"scribble": np.repeat(small[..., None], 3, -1)})
    follows = condition_fidelity("scribble", shrink(clip), vcu)["edge_f1"]
    ignores = condition_fidelity("scribble", shrink(np.stack([_shapes(0)[:, ::-1]] * T)), vcu)["edge_f1"]
    assert follows > 0.3 and follows > ignores + 0.15, (follows, ignores)


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


# ---- depth / pose re-annotation (uvc_bench.metrics.fidelity_reannotation) ----

@pytest.fixture(scope="module")
def face_clip():
    from tests.data.test_annotators_base import load_clip

    return load_clip("carphone_pristine.mp4", 6, (176, 144))  # real footage: a man's face and shoulders


@pytest.fixture(scope="module")
def pose_reannotators():
    from uvc_bench.metrics.fidelity_reannotation import Reannotators

    return Reannotators()  # offline MediaPipe, loaded once for the module


@pytest.fixture(scope="module")
def pose_condition(face_clip):
    from tests.data.test_annotators_base import make_sample
    from uvc_data.annotators import build_annotator

    return build_annotator("pose").process(make_sample(face_clip, ["pose"])).conditions["pose"]


@pytest.mark.parametrize("task", ["pose", "firstframe+pose"])
def test_pose_reannotation_on_real_footage(task, face_clip, pose_condition, pose_reannotators):
    vcu = build_vcu(task, "p", face_clip, {"pose": pose_condition})
    good = condition_fidelity(task, face_clip, vcu, reannotators=pose_reannotators)
    assert good["pose_skeleton_f1"] > 0.95 and good["pose_person_recall"] == 1.0
    assert good["pose_skeleton_precision"] > 0.95 and good["pose_skeleton_recall"] > 0.95
    black = condition_fidelity(task, np.zeros_like(face_clip), vcu, reannotators=pose_reannotators)
    assert black["pose_skeleton_f1"] == 0.0 and black["pose_person_recall"] == 0.0
    moved = condition_fidelity(task, np.roll(face_clip, 60, axis=2), vcu, reannotators=pose_reannotators)
    assert moved["pose_skeleton_f1"] < 0.3 and moved["pose_person_recall"] == 1.0  # a person, in the wrong place
    assert pose_reannotators.get("pose") is pose_reannotators.get("pose")  # loaded once


def test_pose_person_recall_skipped_without_a_person_in_the_condition(face_clip, pose_reannotators):
    vcu = build_vcu("pose", "p", face_clip, {"pose": np.zeros_like(face_clip)})
    rep = condition_fidelity_report("pose", face_clip, vcu, reannotators=pose_reannotators)
    assert "person" in rep.skipped["pose_person_recall"]
    assert rep.values["pose_skeleton_precision"] == 0.0  # the output draws a skeleton the condition does not have


def test_pose_unavailable_backend_is_skipped_with_the_setting(face_clip, pose_condition):
    from uvc_bench.metrics.fidelity_reannotation import ReannotationConfig, Reannotators

    vcu = build_vcu("pose", "p", face_clip, {"pose": pose_condition})
    r = Reannotators(ReannotationConfig(pose_backend="dwpose", dwpose_dir="/nowhere/dwpose"))
    rep = condition_fidelity_report("pose", face_clip, vcu, reannotators=r)
    assert rep.values == {} and "metrics.dwpose_dir" in rep.skipped["pose_reannotation"]


@pytest.fixture(scope="module")
def tiny_depth_dir(tmp_path_factory):
    from uvc_data.testing.tiny_models import save_tiny_depth_anything

    return save_tiny_depth_anything(tmp_path_factory.mktemp("depth"))


@pytest.mark.parametrize("task", ["depth", "firstframe+depth"])
def test_depth_reannotation_with_a_tiny_depth_anything(task, tiny_depth_dir, face_clip):
    from tests.data.test_annotators_base import load_clip, make_sample
    from uvc_data.annotators import build_annotator

    clip = face_clip[:4]
    cond = build_annotator("depth", {"weights": str(tiny_depth_dir), "device": "cpu"}).process(
        make_sample(clip, ["depth"])).conditions["depth"]
    vcu = build_vcu(task, "p", clip, {"depth": cond})
    scorer = Scorer(MetricsConfig(dimensions=[], depth_weights=str(tiny_depth_dir)))
    same = condition_fidelity(task, clip, vcu, reannotators=scorer.reannotators)
    assert same["depth_reannot_mae"] == pytest.approx(0.0, abs=1e-6)
    assert same["depth_reannot_corr"] == pytest.approx(1.0, abs=1e-6)
    other = condition_fidelity(task, load_clip("bikes.mp4", 4, (176, 144)), vcu, reannotators=scorer.reannotators)
    assert other["depth_reannot_mae"] > 0.02 and other["depth_reannot_corr"] < 0.9
    assert scorer.reannotators.get("depth") is scorer.reannotators.get("depth")  # loaded once per Scorer


def test_depth_skip_reasons_name_the_setting(clip, tmp_path):
    from uvc_bench.metrics.fidelity_reannotation import ReannotationConfig, Reannotators

    vcu = build_vcu("reference+depth", "p", clip, {"depth": clip, "ref_images": [clip[0]]})
    rep = condition_fidelity_report("reference+depth", clip, vcu)
    assert "metrics.depth_weights" in rep.skipped["depth_reannotation"]
    assert "not implemented" not in rep.skipped["depth_reannotation"]
    r = Reannotators(ReannotationConfig(depth_weights=str(tmp_path / "empty")))
    rep = condition_fidelity_report("depth", clip, build_vcu("depth", "p", clip, {"depth": clip}), reannotators=r)
    assert "MissingWeightsError" in rep.skipped["depth_reannotation"] and str(tmp_path) in rep.skipped[
        "depth_reannotation"] and "metrics.depth_weights" in rep.skipped["depth_reannotation"]


def test_aligned_depth_measures_by_hand():
    from uvc_bench.metrics.fidelity_measures import aligned_mae, fit_scale_shift, pearson

    p = np.array([[0.0, 1.0], [2.0, 3.0]])
    assert fit_scale_shift(p, 2 * p + 10) == pytest.approx((2.0, 10.0))
    assert aligned_mae(p, 2 * p + 10) == pytest.approx(0.0) and pearson(p, -p) == pytest.approx(-1.0)
    t = np.array([[0.0, 0.0], [0.0, 255.0]])  # least-squares line 76.5·x − 51 through (0,0) (1,0) (2,0) (3,255)
    assert fit_scale_shift(p, t) == pytest.approx((76.5, -51.0))
    assert aligned_mae(p, t) == pytest.approx((51 + 25.5 + 102 + 76.5) / 4 / 255)
    assert fit_scale_shift(np.ones((2, 2)), t) == (0.0, pytest.approx(63.75)) and pearson(np.ones(4), t) == 0.0
    assert pearson(np.ones(4), np.full(4, 7.0)) == 1.0
