"""DWPose (Yang et al., ICCV 2023 workshops) through onnxruntime: YOLOX person boxes, then the RTMPose-style
whole-body model dw-ll_ucoco_384 (133 keypoints, SimCC heads), as published in the DWPose repository.

Pure pre/post-processing functions (tested on their own) plus the session wrapper. Frames come in RGB uint8; the
released models take BGR, as DWPose's own pipeline (cv2 frames) and VACE's pose annotator (`image[..., ::-1]` before
Wholebody) feed them, and the pose model's mean/std constants are applied in that channel order, as DWPose does.
Whole-body layout (COCO-WholeBody): 0–16 body, 17–22 feet, 23–90 face, 91–111 left hand, 112–132 right hand.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from uvc_data.annotators.pose_render import PersonPose, coco_to_openpose
from uvc_data.annotators.weights import weights_file
from uvc_data.imports import require

POSE_MEAN = np.array([123.675, 116.28, 103.53], np.float32)
POSE_STD = np.array([58.395, 57.12, 57.375], np.float32)
YOLOX_STRIDES = (8, 16, 32)
DET_HW = (640, 640)  # input (h, w) of the released yolox_l.onnx; used when a file leaves height/width dynamic
POSE_HW = (384, 288)  # input (h, w) of the released dw-ll_ucoco_384.onnx
HOW = ("download yolox_l.onnx and dw-ll_ucoco_384.onnx (DWPose release, also in VACE-Annotators/pose/) to a folder "
       "and set pose.dwpose_dir=<folder> (or pose.det_model / pose.pose_model to the files); or use pose.backend=mediapipe")


def letterbox(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float]:
    """YOLOX input: resize keeping aspect into (h, w) = size, top-left aligned, padded with 114 → ((3, h, w), ratio)."""
    import cv2

    h, w = image.shape[:2]
    r = min(size[0] / h, size[1] / w)
    resized = cv2.resize(image, (int(w * r), int(h * r)), interpolation=cv2.INTER_LINEAR)
    out = np.full((size[0], size[1], 3), 114, np.float32)
    out[: resized.shape[0], : resized.shape[1]] = resized
    return out.transpose(2, 0, 1), r


def yolox_decode(raw: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Grid-decode YOLOX head outputs (N, 5 + C) (cx, cy, w, h offsets per anchor over strides 8/16/32) into absolute
    (N, 5 + C) cx, cy, w, h in input pixels."""
    grids, strides = [], []
    for s in YOLOX_STRIDES:
        hs, ws = size[0] // s, size[1] // s
        xv, yv = np.meshgrid(np.arange(ws), np.arange(hs))
        grids.append(np.stack((xv, yv), 2).reshape(-1, 2))
        strides.append(np.full((hs * ws, 1), s))
    grid = np.concatenate(grids).astype(np.float32)
    stride = np.concatenate(strides).astype(np.float32)
    if grid.shape[0] != raw.shape[0]:
        raise ValueError(f"YOLOX output has {raw.shape[0]} anchors, expected {grid.shape[0]} for input {size}")
    out = raw.astype(np.float32).copy()
    out[:, :2] = (out[:, :2] + grid) * stride
    out[:, 2:4] = np.exp(out[:, 2:4]) * stride
    return out


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """Greedy non-maximum suppression of (N, 4) xyxy boxes; indices kept, best first."""
    order = scores.argsort()[::-1]
    keep: list[int] = []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order.size:
        i = int(order[0])
        keep.append(i)
        xx1 = np.maximum(boxes[i, 0], boxes[order[1:], 0])
        yy1 = np.maximum(boxes[i, 1], boxes[order[1:], 1])
        xx2 = np.minimum(boxes[i, 2], boxes[order[1:], 2])
        yy2 = np.minimum(boxes[i, 3], boxes[order[1:], 3])
        inter = np.maximum(0, xx2 - xx1) * np.maximum(0, yy2 - yy1)
        iou = inter / (area[i] + area[order[1:]] - inter + 1e-9)
        order = order[1:][iou <= iou_threshold]
    return keep


def person_boxes(decoded: np.ndarray, ratio: float, score_threshold: float, iou_threshold: float) -> np.ndarray:
    """Decoded YOLOX (N, 5 + C) → person boxes (M, 4) xyxy in image pixels (class 0, objectness × class score)."""
    cx, cy, w, h = decoded[:, 0], decoded[:, 1], decoded[:, 2], decoded[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1) / ratio
    scores = decoded[:, 4] * decoded[:, 5]
    sel = scores > score_threshold
    boxes, scores = boxes[sel], scores[sel]
    return boxes[nms(boxes, scores, iou_threshold)] if len(boxes) else np.zeros((0, 4), np.float32)


def box_to_center_scale(box: np.ndarray, aspect: float, padding: float = 1.25) -> tuple[np.ndarray, np.ndarray]:
    """xyxy box → (centre (2,), scale (2,) = padded w, h widened or heightened to the model's w/h aspect)."""
    center = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], np.float32)
    w, h = (box[2] - box[0]) * padding, (box[3] - box[1]) * padding
    if w > h * aspect:
        h = w / aspect
    else:
        w = h * aspect
    return center, np.array([w, h], np.float32)


def crop_affine(center: np.ndarray, scale: np.ndarray, out_wh: tuple[int, int]) -> np.ndarray:
    """(2, 3) affine mapping the box (centre, scale) onto an out_wh image (no rotation)."""
    sx, sy = out_wh[0] / scale[0], out_wh[1] / scale[1]
    return np.array([[sx, 0, out_wh[0] / 2 - sx * center[0]], [0, sy, out_wh[1] / 2 - sy * center[1]]], np.float32)


def simcc_decode(simcc_x: np.ndarray, simcc_y: np.ndarray, split_ratio: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """SimCC (K, Wx) and (K, Hy) logits → keypoints (K, 2) in model-input pixels and scores (K,) = min of the maxima."""
    x = simcc_x.argmax(-1) / split_ratio
    y = simcc_y.argmax(-1) / split_ratio
    scores = np.minimum(simcc_x.max(-1), simcc_y.max(-1))
    locs = np.stack([x, y], -1).astype(np.float32)
    locs[scores <= 0] = -1
    return locs, scores.astype(np.float32)


def wholebody_to_person(kpts: np.ndarray, scores: np.ndarray) -> PersonPose:
    """133 whole-body keypoints (133, 2) + scores → OpenPose body, hands (left, right) and face."""
    full = np.concatenate([kpts, scores[:, None]], 1).astype(np.float32)  # (133, 3)
    return PersonPose(body=coco_to_openpose(full[:17]), hands=np.stack([full[91:112], full[112:133]]),
                      face=full[23:91])


def input_hw(session, default: tuple[int, int], path: Path) -> tuple[int, int]:
    """(h, w) of a session's NCHW input; `default` for a height/width the file leaves dynamic (a name, not a number)."""
    dims = session.get_inputs()[0].shape
    if len(dims) != 4:
        raise ValueError(f"{path}: expected an NCHW image input, got shape {dims}; point pose.det_model / "
                         "pose.pose_model (or pose.dwpose_dir) at the DWPose ONNX files")
    return tuple(d if isinstance(d, int) and d > 0 else dft for d, dft in zip(dims[2:4], default))


def check_signatures(det, pose, det_path: Path, pose_path: Path) -> None:
    """ValueError naming the option to change when a file is not the model it is used as (e.g. the two swapped):
    YOLOX has one (1, N, 5 + C) output, the SimCC pose model two 3-d outputs (simcc_x, simcc_y)."""
    d_out, p_out = det.get_outputs(), pose.get_outputs()
    fix = "set pose.det_model to yolox_l.onnx and pose.pose_model to dw-ll_ucoco_384.onnx (or pose.dwpose_dir)"
    width = d_out[0].shape[-1] if len(d_out) == 1 else None
    if len(d_out) != 1 or len(d_out[0].shape) != 3 or not (isinstance(width, int) and width >= 6):
        raise ValueError(f"{det_path} is not a YOLOX detector (outputs {[o.shape for o in d_out]}, "
                         f"expected one (1, N, 5 + classes)): {fix}")
    if len(p_out) < 2 or any(len(o.shape) != 3 for o in p_out[:2]):
        raise ValueError(f"{pose_path} is not a SimCC pose model (outputs {[o.shape for o in p_out]}, "
                         f"expected simcc_x (1, K, Wx) and simcc_y (1, K, Hy)): {fix}")


class DWPose:
    """The two ONNX sessions. `__call__(image)` → people in image pixels."""

    def __init__(self, det_model: str, pose_model: str, providers: list[str], det_score: float = 0.3,
                 nms_iou: float = 0.45) -> None:
        ort = require("onnxruntime", "onnxruntime-gpu  (or onnxruntime on CPU)", "DWPose (pose backend 'dwpose')")
        det = weights_file(det_model, "DWPose person detector (yolox_l.onnx)", HOW)
        pose = weights_file(pose_model, "DWPose whole-body model (dw-ll_ucoco_384.onnx)", HOW)
        have = set(ort.get_available_providers())
        chosen = [p for p in providers if p in have] or ["CPUExecutionProvider"]
        self.det = ort.InferenceSession(str(det), providers=chosen)
        self.pose = ort.InferenceSession(str(pose), providers=chosen)
        check_signatures(self.det, self.pose, det, pose)
        self.det_size = input_hw(self.det, DET_HW, det)  # (h, w)
        ph, pw = input_hw(self.pose, POSE_HW, pose)
        self.pose_wh = (pw, ph)
        self.det_score, self.nms_iou = det_score, nms_iou

    @property
    def device(self) -> str:
        """"cuda" when both sessions run on onnxruntime's CUDA provider, else "cpu (onnxruntime providers: …)"."""
        used = set(self.det.get_providers()) & set(self.pose.get_providers())
        if "CUDAExecutionProvider" in used:
            return "cuda"
        return (f"cpu (onnxruntime providers {sorted(used)}; the CUDA provider needs onnxruntime-gpu and a visible "
                "GPU)")

    def __call__(self, image: np.ndarray) -> list[PersonPose]:
        import cv2

        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"DWPose needs RGB frames (H, W, 3), got shape {image.shape}")
        image = np.ascontiguousarray(image[..., ::-1])  # RGB → BGR, the order the released models were fed
        x, ratio = letterbox(image, self.det_size)
        raw = self.det.run(None, {self.det.get_inputs()[0].name: x[None]})[0][0]  # (N, 5 + C)
        boxes = person_boxes(yolox_decode(raw, self.det_size), ratio, self.det_score, self.nms_iou)
        people = []
        for box in boxes:
            center, scale = box_to_center_scale(box, self.pose_wh[0] / self.pose_wh[1])
            m = crop_affine(center, scale, self.pose_wh)
            crop = cv2.warpAffine(image, m, self.pose_wh, flags=cv2.INTER_LINEAR).astype(np.float32)
            inp = ((crop - POSE_MEAN) / POSE_STD).transpose(2, 0, 1)[None]
            sx, sy = self.pose.run(None, {self.pose.get_inputs()[0].name: inp})[:2]
            locs, scores = simcc_decode(sx[0], sy[0])
            locs = (locs - np.array(self.pose_wh, np.float32) / 2) * scale / np.array(self.pose_wh) + center
            people.append(wholebody_to_person(locs, scores))
        return people


def dwpose_paths(folder: str, det_model: str, pose_model: str) -> tuple[str, str]:
    """Explicit files win; otherwise the standard file names inside `folder`."""
    base = Path(folder).expanduser() if folder else None
    det = det_model or (str(base / "yolox_l.onnx") if base else "")
    pose = pose_model or (str(base / "dw-ll_ucoco_384.onnx") if base else "")
    return det, pose
