"""The DWPose backend run for real through onnxruntime, on tiny ONNX stand-ins of yolox_l.onnx and dw-ll_ucoco_384.onnx
(uvc_data.annotators.tiny_onnx: same names, shapes and layouts, deterministic weights).

Scene: a 128×96 frame, a grey person rectangle at xyxy (40, 16, 88, 80) with one white pixel (the "nose") at (64, 23).
Letterboxed to 640×640 (ratio 5) the box is (200, 80, 440, 400); the detector reports it, a duplicate that NMS must
drop and a low-score box the threshold must drop. The pose crop of that box (padding 1.25, aspect 288/384) has centre
(64, 48) and scale (60, 80): frame x = u·60/288 + 34, y = v·80/384 + 8 for crop pixels (u, v) = SimCC bins / 2.
"""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="onnxruntime is not installed: pip install onnxruntime (DWPose backend)")
pytest.importorskip("torch", reason="torch is needed to build the tiny ONNX models")
pytest.importorskip("onnx", reason="onnx is not installed: pip install onnx (torch.onnx.export writes the tiny models)")

from tests.data.test_annotators_base import make_sample  # noqa: E402
from uvc_data.annotators import build_annotator  # noqa: E402
from uvc_data.annotators.pose_render import COLORS, coco_to_openpose  # noqa: E402
from uvc_data.annotators.tiny_onnx import TinySimCC, TinyYOLOX, write_tiny_dwpose  # noqa: E402

H, W = 96, 128
PERSON = (40, 16, 88, 80)  # xyxy in frame pixels
NOSE = (64, 23)  # the white pixel the pose head's nose follows
# COCO-17 body in frame pixels (0 nose: follows the white pixel); 16 right ankle gets a score below the threshold.
BODY = np.array([NOSE, (67, 21), (61, 21), (70, 22), (58, 22), (74, 32), (54, 32), (78, 44), (50, 44), (80, 54),
                 (48, 54), (70, 56), (58, 56), (70, 68), (58, 68), (70, 78), (58, 78)], np.float32)
HIDDEN = 16


def _layout() -> tuple[np.ndarray, np.ndarray]:
    """133 whole-body keypoints (frame pixels) and their scores: body, feet by the ankles, a face ring round the nose,
    hands fanned below the wrists."""
    pts = np.zeros((133, 2), np.float32)
    scores = np.zeros(133, np.float32)
    pts[:17], scores[:17] = BODY, 0.9
    scores[HIDDEN] = 0.2
    pts[17:23] = np.repeat(BODY[15:17], 3, 0) + [[1, 2], [3, 2], [-1, 1]] * 2
    scores[17:23] = 0.9
    angle = np.linspace(0, 2 * np.pi, 68, endpoint=False)
    pts[23:91] = np.stack([NOSE[0] + 3 * np.cos(angle), NOSE[1] + 5 + 2 * np.sin(angle)], 1)  # y 26–30
    scores[23:91] = 0.7
    fan = np.stack([np.tile(np.arange(-2, 3), 5)[:21], 1 + np.repeat(np.arange(5), 5)[:21]], 1).astype(np.float32)
    pts[91:112], pts[112:133] = BODY[9] + fan, BODY[10] + fan  # COCO-WholeBody: left hand, then right hand
    scores[91:133] = 0.8
    return pts, scores


def _bins(frame_pts: np.ndarray) -> np.ndarray:
    """Frame pixels → SimCC bins of the person crop (forward affine written out: u = (x − 34)·288/60, bin = 2u)."""
    crop = (frame_pts - [34, 8]) * [288 / 60, 384 / 80]
    return np.round(2 * crop).astype(np.int64)


def _frame_from_bins(bins: np.ndarray) -> np.ndarray:
    return bins / 2 * [60 / 288, 80 / 384] + [34, 8]


def _scene(person: bool) -> np.ndarray:
    img = np.zeros((H, W, 3), np.uint8)
    if person:
        img[PERSON[1]:PERSON[3], PERSON[0]:PERSON[2]] = 120
        img[NOSE[1], NOSE[0]] = 255
    return img


def _write(folder, dynamic_hw: bool = False):
    pts, scores = _layout()
    follow = np.zeros(133, bool)
    follow[0] = True
    boxes = [((200.0, 80.0, 440.0, 400.0), 0.95),  # the person (letterbox pixels)
             ((240.0, 80.0, 480.0, 400.0), 0.8),  # duplicate, IoU 0.71 → NMS drops it
             ((20.0, 420.0, 60.0, 470.0), 0.2)]  # below det_score 0.3
    write_tiny_dwpose(folder, TinyYOLOX(boxes), TinySimCC(_bins(pts), scores, follow), dynamic_hw=dynamic_hw)
    return folder


@pytest.fixture(scope="module")
def dwpose_dir(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("dwpose"))


def _annotator(folder, **options):
    return build_annotator("pose", {"backend": "dwpose", "dwpose_dir": str(folder),
                                    "providers": ["CPUExecutionProvider"], **options})


def test_tiny_onnx_files_have_the_released_signatures(dwpose_dir):
    import onnxruntime as ort

    det = ort.InferenceSession(str(dwpose_dir / "yolox_l.onnx"), providers=["CPUExecutionProvider"])
    pose = ort.InferenceSession(str(dwpose_dir / "dw-ll_ucoco_384.onnx"), providers=["CPUExecutionProvider"])
    assert [(i.name, i.shape) for i in det.get_inputs()] == [("images", [1, 3, 640, 640])]
    assert [(o.name, o.shape) for o in det.get_outputs()] == [("output", [1, 8400, 85])]
    assert [(i.name, i.shape) for i in pose.get_inputs()] == [("input", [1, 3, 384, 288])]
    assert [(o.name, o.shape) for o in pose.get_outputs()] == [("simcc_x", [1, 133, 576]), ("simcc_y", [1, 133, 768])]


def test_dwpose_keypoints_land_where_the_heads_put_them(dwpose_dir):
    ann = _annotator(dwpose_dir)
    frames = np.stack([_scene(True), _scene(True), _scene(False)])
    s = ann.process(make_sample(frames, ["pose", "t2v"]))
    assert s.tasks == ["pose", "t2v"], s.rejected
    assert ann.stats.get("annotated") == 1 and not ann.unavailable

    people = ann.model(_scene(True))
    assert len(people) == 1  # duplicate suppressed, low score dropped
    pts, scores = _layout()
    expected = _frame_from_bins(_bins(pts))
    expected[0] = NOSE  # followed the white pixel through the real crop (warpAffine), not a bias
    assert np.abs(expected - pts).max() <= 0.11  # bins quantise by 1/9.6 px
    p = people[0]
    want = coco_to_openpose(np.concatenate([expected[:17], scores[:17, None]], 1))
    assert np.allclose(p.body[:, :2], want[:, :2], atol=1e-3)
    assert np.allclose(p.body[1:, 2], want[1:, 2], atol=1e-6) and p.body[0, 2] > 0.3  # nose logit = profile + 3
    assert np.allclose(p.hands[0, :, :2], expected[91:112], atol=1e-3)
    assert np.allclose(p.hands[1, :, :2], expected[112:133], atol=1e-3)
    assert np.allclose(p.face[:, :2], expected[23:91], atol=1e-3) and np.allclose(p.face[:, 2], 0.7)

    video = s.conditions["pose"]
    assert video.shape == (3, H, W, 3) and video.dtype == np.uint8
    assert video[0, NOSE[1], NOSE[0]].tolist() == list(COLORS[0])  # nose joint
    assert video[0, 32, 64].tolist() == list(COLORS[1])  # neck = mid-shoulders (54, 32)–(74, 32)
    assert video[0, 44, 78].tolist() == list(COLORS[6])  # OpenPose 6 = left elbow
    assert video[0, 78, 58].tolist() == [0, 0, 0]  # right ankle below the threshold: not drawn
    face = np.round(expected[23 + 17]).astype(int)  # the ring's bottom point, (64, 30)
    assert video[0, face[1], face[0]].tolist() == [255, 255, 255]
    hand = np.round(expected[91 + 20]).astype(int)  # the last fan point of the left hand
    assert video[0, hand[1], hand[0]].tolist() == [0, 0, 255]
    assert np.array_equal(video[0], video[1]) and video[2].max() == 0  # the dark frame holds no one

    assert s.signals["pose_person_frac"] == pytest.approx(2 / 3)
    assert s.signals["pose_people"] == 1
    assert s.signals["pose_keypoints"] == 17  # 18 OpenPose points, the right ankle hidden
    assert s.signals["pose_person_height"] == pytest.approx((78 - 21) / H, abs=0.01)


def test_dwpose_hands_and_face_can_be_left_out(dwpose_dir):
    s = _annotator(dwpose_dir, draw_hands=False, draw_face=False).process(
        make_sample(_scene(True)[None], ["pose"]))
    video = s.conditions["pose"][0]
    full = _annotator(dwpose_dir).process(make_sample(_scene(True)[None], ["pose"])).conditions["pose"][0]
    pts, _ = _layout()
    for i in (23 + 17, 91 + 20, 112 + 20):  # a face dot, the last dot of each hand
        x, y = np.round(_frame_from_bins(_bins(pts[i]))).astype(int)
        assert full[y, x].tolist() in ([255, 255, 255], [0, 0, 255])
        assert video[y, x].tolist() not in ([255, 255, 255], [0, 0, 255])
    assert (video == [255, 255, 255]).all(-1).sum() == 0  # no face dot anywhere
    assert np.array_equal(video[NOSE[1], NOSE[0]], full[NOSE[1], NOSE[0]])  # the body is drawn the same


def test_dwpose_finds_no_one_in_a_dark_clip(dwpose_dir):
    ann = _annotator(dwpose_dir)
    assert ann.process(make_sample(np.zeros((1, H, W, 3), np.uint8), ["t2v"])).tasks == ["t2v"]  # nothing to do
    assert ann.model is None  # not even loaded
    s = ann.process(make_sample(np.zeros((2, H, W, 3), np.uint8), ["pose", "reference+pose", "t2v"]))
    assert ann.model(np.zeros((H, W, 3), np.uint8)) == []
    assert s.signals["pose_person_frac"] == 0 and s.signals["pose_people"] == 0
    assert "pose" not in s.conditions or s.conditions["pose"].max() == 0


def test_dwpose_files_with_dynamic_height_width_use_the_released_sizes(dwpose_dir, tmp_path):
    _write(tmp_path, dynamic_hw=True)
    ann = _annotator(tmp_path)
    s = ann.process(make_sample(_scene(True)[None], ["pose"]))
    assert ann.model.det_size == (640, 640) and ann.model.pose_wh == (288, 384)
    static = _annotator(dwpose_dir).process(make_sample(_scene(True)[None], ["pose"]))
    assert np.array_equal(s.conditions["pose"], static.conditions["pose"]) and s.conditions["pose"].max() > 0


def test_dwpose_swapped_files_reject_with_the_option_to_fix(dwpose_dir):
    ann = _annotator("", det_model=str(dwpose_dir / "dw-ll_ucoco_384.onnx"),
                     pose_model=str(dwpose_dir / "yolox_l.onnx"))
    s = ann.process(make_sample(_scene(True)[None], ["pose", "t2v"]))
    assert s.tasks == ["t2v"] and ann.stats["unavailable"] == 1
    reason = s.rejected["pose"]
    assert reason.startswith("condition pose unavailable: ValueError: ")
    assert "dw-ll_ucoco_384.onnx is not a YOLOX detector" in reason and "pose.det_model" in reason
    frame = np.zeros((H, W), np.uint8)  # not RGB: a clear error, not a broadcast failure
    with pytest.raises(ValueError, match=r"RGB frames \(H, W, 3\)"):
        _annotator(dwpose_dir).load()(frame)


def test_dwpose_no_one_rejects_pose_tasks(dwpose_dir):
    s = _annotator(dwpose_dir).process(make_sample(np.zeros((2, H, W, 3), np.uint8), ["pose", "reference+pose", "t2v"]))
    assert s.tasks == ["t2v"] and "pose" not in s.conditions
    assert s.rejected["pose"].startswith("no pose: ")


class _Recording:
    """A stand-in onnxruntime session that records what it is fed and answers fixed outputs."""

    def __init__(self, outputs):
        self.outputs, self.fed = outputs, []

    def get_inputs(self):
        from types import SimpleNamespace

        return [SimpleNamespace(name="input")]

    def run(self, _names, feeds):
        self.fed.append(feeds["input"])
        return self.outputs


def test_models_are_fed_bgr_as_dwpose_and_vace_feed_them():
    """The released YOLOX and RTMPose models were fed cv2 (BGR) frames — VACE flips its RGB frames before Wholebody —
    so an RGB frame must reach both models with its channels reversed."""
    from uvc_data.annotators.dwpose import DWPose, POSE_MEAN, POSE_STD, letterbox

    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 10  # R, G, B
    raw = np.zeros((8400, 6), np.float32)  # 640×640 YOLOX anchors; anchor 0 (stride 8, grid 0, 0) = one person
    raw[0] = [40, 40, np.log(40), np.log(40), 1.0, 1.0]  # centre (320, 320), 320×320 px, objectness · class = 1
    det = _Recording([raw[None]])
    pose = _Recording([np.zeros((1, 133, 576), np.float32), np.zeros((1, 133, 768), np.float32)])
    model = DWPose.__new__(DWPose)
    model.det, model.pose, model.det_size, model.pose_wh = det, pose, (640, 640), (288, 384)
    model.det_score, model.nms_iou = 0.3, 0.45
    assert len(model(rgb)) == 1
    expected_det, _ = letterbox(np.ascontiguousarray(rgb[..., ::-1]), (640, 640))
    np.testing.assert_array_equal(det.fed[0][0], expected_det)
    assert det.fed[0][0][0, 0, 0] == 10 and det.fed[0][0][2, 0, 0] == 200  # channel 0 is blue
    centre = pose.fed[0][0][:, 192, 144]  # a crop pixel inside the frame
    np.testing.assert_allclose(centre, (np.array([10, 100, 200], np.float32) - POSE_MEAN) / POSE_STD, rtol=1e-5)


def test_dwpose_on_the_cpu_provider_fails_a_gpu_stage_naming_onnxruntime(dwpose_dir):
    from uvc_data.errors import ConfigError
    from uvc_data.writer.placement import check_gpu_placement

    pose = _annotator(dwpose_dir, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    pose.setup()
    (what, device), = pose.devices().items()
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("onnxruntime here has the CUDA provider")
    assert what == "pose (dwpose)" and device.startswith("cpu (onnxruntime providers ['CPUExecutionProvider']")
    check_gpu_placement("pose", 0, [pose])  # a CPU stage: fine
    with pytest.raises(ConfigError, match=r"stages.pose.num_gpus.*pose \(dwpose\) runs on cpu.*onnxruntime-gpu"):
        check_gpu_placement("pose", 0.25, [pose])
