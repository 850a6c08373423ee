"""A suite case's files → the VCU a model is fed (uvc_data.vcu semantics), and its ground truth clip.

src_video is the control / source video as the suite stores it (gray where generated, first frame then control for
firstframe+X), src_mask the mask video (white = generate), src_ref_images are fitted onto a white canvas at the working
size. Which of them is read follows the case's official route. Frames beyond `num_frames` are dropped; a source with
fewer frames is an error (never padded silently). A source at another size is resized to the working size
(bilinear; masks nearest).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from uvc_data.errors import BadInputError
from uvc_data.vcu import VCU, fit_on_white, to_unit
from uvc_data.video.codec import decode_mask, decode_png, decode_video
from uvc_bench.suite import Case


def _resize(video_THWC: np.ndarray, size: tuple[int, int], nearest: bool = False) -> np.ndarray:
    """(T, H, W, 3) or (T, H, W) → the same at `size` (H, W)."""
    import cv2

    h, w = size
    if video_THWC.shape[1:3] == (h, w):
        return video_THWC
    interp = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    return np.stack([cv2.resize(f, (w, h), interpolation=interp) for f in video_THWC])


def _first_frames(video: np.ndarray, n: int, what: str, case: Case) -> np.ndarray:
    if video.shape[0] < n:
        raise BadInputError(f"{case.case_id}: {what} has {video.shape[0]} frames, the run asks for {n}; lower "
                            "num_frames or give a longer video")
    return video[:n]


def read_image(path: Path) -> np.ndarray:
    """An image file (PNG, JPEG, ...) → (H, W, 3) uint8 RGB."""
    try:
        return decode_png(path.read_bytes())
    except OSError as exc:
        raise BadInputError(f"cannot read image {path}: {exc}") from exc


def case_vcu(case: Case, size: tuple[int, int], num_frames: int) -> VCU:
    """The VCU of `case` at working size (H, W) with `num_frames` frames."""
    problems = case.problems()
    if problems:
        raise BadInputError("; ".join(problems))
    h, w = size
    if case.route in ("video_only", "video_and_ref", "video_and_mask"):
        assert case.src_video is not None  # checked by problems()
        video = _first_frames(decode_video(case.src_video)[0], num_frames, "src_video", case)
        frames = to_unit(_resize(video, size))
    else:
        frames = np.zeros((num_frames, h, w, 3), np.float32)
    if case.route == "video_and_mask":
        assert case.src_mask is not None
        mask = _first_frames(decode_mask(case.src_mask), num_frames, "src_mask", case)
        masks = (_resize(mask, size, nearest=True) > 127).astype(np.float32)  # (T, H, W)
    else:
        masks = np.ones((num_frames, h, w), np.float32)
    refs = []
    if case.route in ("ref_only", "video_and_ref"):
        refs = [to_unit(fit_on_white(read_image(p), h, w)) for p in case.src_ref_images]
    return VCU(prompt=case.prompt, frames=frames, masks=masks, refs=refs, task=case.task)


def case_ground_truth(case: Case, size: tuple[int, int], num_frames: int) -> np.ndarray | None:
    """The original clip (T, H, W, 3) uint8 at the working size, or None when the suite has none."""
    if case.gt_video is None or not case.gt_video.is_file():
        return None
    video = decode_video(case.gt_video)[0][:num_frames]
    return _resize(video, size)
