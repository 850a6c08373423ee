"""A suite case's files → the VCU a model is fed (uvc_data.vcu semantics) and its ground truth, read as the official
inference reads them (uvc_bench.case_reading): frames spread over the whole source, the output size from the source's
aspect, aspect-keeping resize + centre crop, masks continuous in [0, 1], references on a white canvas.

src_video is the control / source video as the suite stores it (gray where generated, first frame then control for
firstframe+X), src_mask the mask video (white = generate). Which of them is read follows the case's official route.
The mask and the ground truth take the source's frame ids and resize (the official `load_video_pair`), so every
fidelity input lines up with the model input frame by frame. A case without a source video (T2V, R2V) has the
run's default shape: the official 480×832 × 81, or the suite's working shape (suite.json) for our built suites.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from uvc_data.errors import BadInputError
from uvc_data.vcu import VCU, to_unit
from uvc_data.video.codec import decode_png
from uvc_bench.case_reading import ReadingConfig, ReadPlan, fit_reference, mask_from_frames, plan_reading, read_frames
from uvc_bench.suite import Case
from uvc_bench.video_io import probe_video

VIDEO_ROUTES = ("video_only", "video_and_ref", "video_and_mask")


@dataclass(frozen=True)
class CaseShape:
    """What a case's output must be: frames and size (and the source frames it reads, None without a source)."""

    num_frames: int
    height: int
    width: int
    plan: ReadPlan | None = None


def read_image(path: Path) -> np.ndarray:
    """An image file (PNG, JPEG, ...) → (H, W, 3) uint8 RGB (alpha dropped, as PIL's convert("RGB"))."""
    try:
        return decode_png(path.read_bytes())
    except OSError as exc:
        raise BadInputError(f"cannot read image {path}: {exc}") from exc


def case_shape(case: Case, reading: ReadingConfig, default: tuple[int, int, int]) -> CaseShape:
    """The output shape of `case` (probing its source video, no decoding). default: (H, W, frames) without one."""
    problems = case.problems()
    if problems:
        raise BadInputError("; ".join(problems))
    if case.route in VIDEO_ROUTES:
        assert case.src_video is not None  # checked by problems()
        probe = probe_video(case.src_video)
        n = probe.num_frames
        if case.route == "video_and_mask":
            assert case.src_mask is not None
            n = min(n, probe_video(case.src_mask).num_frames)  # load_video_pair: the shorter of the two
        try:
            plan = plan_reading(probe.timestamps[:n], probe.height, probe.width, reading)
        except BadInputError as exc:
            raise BadInputError(f"{case.case_id}: src_video: {exc}") from None
        return CaseShape(plan.num_frames, plan.height, plan.width, plan)
    h, w, n = default
    return CaseShape(reading.num_frames or n, reading.height or h, reading.width or w)


def case_vcu(case: Case, reading: ReadingConfig = ReadingConfig(), default: tuple[int, int, int] = (480, 832, 81),
             shape: CaseShape | None = None) -> VCU:
    """The VCU of `case` as the official inference builds it."""
    shape = shape or case_shape(case, reading, default)
    h, w, t = shape.height, shape.width, shape.num_frames
    if shape.plan is not None:
        assert case.src_video is not None
        frames = to_unit(read_frames(case.src_video, shape.plan))
    else:
        frames = np.zeros((t, h, w, 3), np.float32)
    if case.route == "video_and_mask" and shape.plan is not None:
        assert case.src_mask is not None
        masks = mask_from_frames(read_frames(case.src_mask, shape.plan))
    else:
        masks = np.ones((t, h, w), np.float32)
    refs = []
    if case.route in ("ref_only", "video_and_ref"):
        refs = [fit_reference(read_image(p), h, w).astype(np.float32) for p in case.src_ref_images]
    return VCU(prompt=case.prompt, frames=frames, masks=masks, refs=refs, task=case.task)


def case_ground_truth(case: Case, shape: CaseShape) -> np.ndarray | None:
    """The original clip (T, H, W, 3) uint8 through the model input's path (the source's frame ids and resize), or
    None when the suite has none. Without a source video its own frames are spread the same way."""
    if case.gt_video is None or not case.gt_video.is_file():
        return None
    if shape.plan is not None:
        n_gt = probe_video(case.gt_video).num_frames
        if max(shape.plan.frame_ids) >= n_gt:
            return None  # shorter than the source: cannot be paired frame by frame
        return read_frames(case.gt_video, shape.plan)
    probe = probe_video(case.gt_video)
    reading = ReadingConfig(height=shape.height, width=shape.width,
                            num_frames=min(shape.num_frames, probe.num_frames))
    plan = plan_reading(probe.timestamps, probe.height, probe.width, reading)
    return read_frames(case.gt_video, plan) if plan.num_frames == shape.num_frames else None
