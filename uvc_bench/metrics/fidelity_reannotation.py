"""Depth and pose condition fidelity by re-annotation: the output's control frames go through the dataset's own
annotator (uvc_data.annotators.depth / .pose, rendered exactly as the condition was) and the result is compared with
the control video. The annotators are loaded once per `Reannotators` (one per Scorer), lazily, on first use.

pose (↑ all): pose_skeleton_precision / _recall / _f1 — skeleton pixels of the output's render vs the condition's,
  a pixel matching within POSE_TOLERANCE of the image diagonal (fidelity_measures.edge_f1), per frame, averaged;
  pose_person_recall — of the control frames whose condition shows a person, the share where the output's
  re-annotation shows one too (a frame shows a person when its render has ≥ PERSON_MIN_PIXELS skeleton pixels).
depth: depth_reannot_mae (↓, 0–1) — per frame, the output's depth (min-max to 0–255 as the condition) aligned to the
  condition by least-squares scale and shift, then mean |error| / 255; depth_reannot_corr (↑, −1–1) — per-frame
  Pearson correlation of the two depth maps. Both averaged over the control frames.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from uvc_bench.metrics import fidelity_measures as fm
from uvc_data.vcu import to_uint8

if TYPE_CHECKING:
    from uvc_bench.metrics.fidelity import FidelityResult
    from uvc_data.annotators.base import Annotator
    from uvc_data.vcu import VCU

POSE_TOLERANCE = 0.01  # of the image diagonal: keypoints of two detector runs differ by a few pixels
PERSON_MIN_PIXELS = 5  # skeleton pixels that make a rendered frame "show a person" (one joint dot at the smallest size)
DEPTH_HOW = ("set metrics.depth_weights (MetricsConfig.depth_weights) to a local Depth Anything V2 transformers folder "
             "(the one the dataset's depth annotator used, e.g. depth-anything/Depth-Anything-V2-Large-hf)")


@dataclass
class ReannotationConfig:
    depth_weights: str = ""  # Depth Anything V2 transformers folder; "" = depth re-annotation skipped
    pose_backend: str = "mediapipe"  # "mediapipe" (offline, bundled) | "dwpose" (needs dwpose_dir)
    dwpose_dir: str = ""  # folder with yolox_l.onnx and dw-ll_ucoco_384.onnx
    device: str = "cpu"
    batch_size: int = 16


class Reannotators:
    """The depth and pose annotators used by condition fidelity, each loaded at most once (failures remembered)."""

    def __init__(self, cfg: ReannotationConfig | None = None) -> None:
        self.cfg = cfg or ReannotationConfig()
        self._loaded: dict[str, "Annotator | None"] = {}
        self.unavailable: dict[str, str] = {}  # condition → why its annotator cannot be used

    def get(self, condition: str) -> "Annotator | None":
        """The loaded annotator for "depth" or "pose", or None with the reason in `unavailable[condition]`."""
        if condition not in self._loaded:
            self._loaded[condition] = self._load(condition)
        return self._loaded[condition]

    def _load(self, condition: str) -> "Annotator | None":
        c = self.cfg
        if condition == "depth" and not c.depth_weights:
            self.unavailable["depth"] = f"no depth weights: {DEPTH_HOW}"
            return None
        try:
            from uvc_data.annotators import build_annotator
        except ImportError as exc:
            self.unavailable[condition] = f"the {condition} annotator cannot be imported: {exc}"
            return None
        if condition == "depth":
            options: dict[str, Any] = {"weights": c.depth_weights, "device": c.device, "batch_size": c.batch_size}
        else:
            options = {"backend": c.pose_backend, "dwpose_dir": c.dwpose_dir}
        ann = build_annotator(condition, options)
        ann.setup()  # loads once; a failure is recorded in ann.unavailable (MissingWeights text says what to set)
        if ann.unavailable is not None:
            how = f"; {DEPTH_HOW}" if condition == "depth" else "; set metrics.pose_backend / metrics.dwpose_dir"
            self.unavailable[condition] = f"the {condition} annotator is unavailable: {ann.unavailable}{how}"
            return None
        return ann

    def annotate(self, condition: str, frames: np.ndarray) -> np.ndarray | None:
        """The control video (T, H, W, 3) uint8 the annotator makes from `frames`; for pose, all black when it finds
        no person in any frame (the annotator's NothingToAnnotate). None when the annotator is unavailable."""
        from uvc_data.annotators.base import NothingToAnnotate
        from uvc_data.sample import Provenance, Sample

        ann = self.get(condition)
        if ann is None:
            return None
        h, w = frames.shape[1:3]
        sample = Sample("fidelity", frames, 16.0, Provenance("output", "output", 0, 0, 0.0, 0.0, 16.0, w, h))
        try:
            return ann.annotate(sample)
        except NothingToAnnotate:
            return np.zeros(frames.shape, np.uint8)


def pose_fidelity(res: "FidelityResult", output: np.ndarray, vcu: "VCU", ts: np.ndarray,
                  reannotators: Reannotators) -> None:
    render = reannotators.annotate("pose", output[ts])
    if render is None:
        res.skipped["pose_reannotation"] = reannotators.unavailable["pose"]
        return
    pred = np.stack([fm.skeleton_mask(r) for r in render])  # (N, H, W)
    target = np.stack([fm.skeleton_mask(c) for c in to_uint8(vcu.frames[ts])])
    tol = max(1, round(POSE_TOLERANCE * float(np.hypot(*output.shape[1:3]))))
    prf = np.array([fm.edge_f1(p, g, tol) for p, g in zip(pred, target)]).mean(0)
    res.values.update(pose_skeleton_precision=float(prf[0]), pose_skeleton_recall=float(prf[1]),
                      pose_skeleton_f1=float(prf[2]))
    shown = target.reshape(len(ts), -1).sum(1) >= PERSON_MIN_PIXELS
    found = pred.reshape(len(ts), -1).sum(1) >= PERSON_MIN_PIXELS
    if shown.any():
        res.values["pose_person_recall"] = float(found[shown].mean())
    else:
        res.skipped["pose_person_recall"] = "no control frame shows a person"


def depth_fidelity(res: "FidelityResult", output: np.ndarray, vcu: "VCU", ts: np.ndarray,
                   reannotators: Reannotators) -> None:
    depth = reannotators.annotate("depth", output[ts])
    if depth is None:
        res.skipped["depth_reannotation"] = reannotators.unavailable["depth"]
        return
    pred = depth[..., 0]  # (N, H, W) 0–255, the condition's convention (near = bright)
    target = to_uint8(vcu.frames[ts]).mean(-1)  # (N, H, W); the three channels are equal up to codec noise
    res.values["depth_reannot_mae"] = float(np.mean([fm.aligned_mae(p, t) for p, t in zip(pred, target)]))
    res.values["depth_reannot_corr"] = float(np.mean([fm.pearson(p, t) for p, t in zip(pred, target)]))
