"""The narrow, batched model interface UVCBench talks to (as lm-evaluation-harness's `api/model.py`).

Models and tasks never see each other: a model receives typed requests (a case id, its task, its VCU, the seed, the
working size and frame count, and the case's input files for models that run elsewhere) and returns one result per
request, a video or an error. A model never raises for one bad case; the harness records the error and goes on.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from uvc_data.vcu import VCU


@dataclass(frozen=True)
class CaseFiles:
    """A case's input files as the suite stores them (absolute paths; None / () where the route has none)."""

    src_video: Path | None = None
    src_mask: Path | None = None
    ref_images: tuple[Path, ...] = ()


@dataclass
class GenRequest:
    subtask: str  # official spelling: the output folder
    sample_id: str
    task: str  # canonical task name (or the subtask when unknown to the registry)
    vcu: VCU
    seed: int
    size: tuple[int, int]  # (H, W)
    num_frames: int
    fps: float = 16.0
    files: CaseFiles = field(default_factory=CaseFiles)

    @property
    def case_id(self) -> str:
        return f"{self.subtask}/{self.sample_id}"


@dataclass
class GenResult:
    case_id: str
    video: np.ndarray | None = None  # (T, H, W, 3) uint8
    error: str | None = None
    seconds: float | None = None  # wall time spent generating this case (None: not measured, e.g. `folder`)
    fps: float | None = None  # frame rate of the video (None = the request's fps, for in-memory videos)
    path: Path | None = None  # a finished video file, written as it is (no cut, no re-encode), instead of `video`

    @property
    def ok(self) -> bool:
        return self.error is None and (self.video is not None or self.path is not None)


class VideoModel(abc.ABC):
    """Base class of every bench model. Subclasses set `name` and `Config` (a dataclass of settings) and implement
    `generate`. `settings()` is recorded in the results file."""

    name: ClassVar[str] = ""
    Config: ClassVar[type]

    def __init__(self, cfg: Any):
        self.cfg = cfg

    @abc.abstractmethod
    def generate(self, requests: list[GenRequest]) -> list[GenResult]:
        """One GenResult per request, in order. Failures are results with `error` set, not exceptions."""

    def settings(self) -> dict[str, Any]:
        """Settings recorded in results: the config plus steps / guidance / shift (None when not applicable)."""
        from uvc_data.configurable import to_dict

        out = {"steps": None, "guidance": None, "shift": None}
        out.update(to_dict(self.cfg))
        return out

    @property
    def batch_size(self) -> int:
        return int(getattr(self.cfg, "batch_size", 1) or 1)


def shape_mismatch(frames: int, height: int, width: int, fps: float | None, req: GenRequest) -> str | None:
    """What differs between an output (frames, size, fps) and the case it answers (None when nothing does)."""
    diffs = []
    if frames != req.num_frames:
        diffs.append(f"{frames} frames, the case has {req.num_frames}")
    if (height, width) != tuple(req.size):
        diffs.append(f"{width}×{height}, the case is {req.size[1]}×{req.size[0]}")
    if fps is not None and abs(fps - req.fps) > 1e-3:
        diffs.append(f"{fps:g} fps, the run writes {req.fps:g}")
    if not diffs:
        return None
    return ("output does not match its case: " + "; ".join(diffs) +
            " — generate at the case's shape (GenRequest.num_frames / size / fps)")


def check_video(video: np.ndarray, req: GenRequest, fps: float | None = None) -> str | None:
    """Why `video` is not a valid output for `req` (None when it is): a (T, H, W, 3) uint8 array with the case's
    frames and size (and fps, when the model gives one)."""
    if not isinstance(video, np.ndarray) or video.dtype != np.uint8 or video.ndim != 4 or video.shape[-1] != 3:
        return (f"model output must be a (T, H, W, 3) uint8 array, got "
                f"{getattr(video, 'dtype', type(video).__name__)} {getattr(video, 'shape', '')}")
    if video.shape[0] < 2:
        return f"model output has {video.shape[0]} frame(s); at least 2 are needed to score a video"
    if video.shape[1] % 2 or video.shape[2] % 2:
        return f"model output is {video.shape[2]}x{video.shape[1]}; H.264 needs even sizes"
    return shape_mismatch(video.shape[0], video.shape[1], video.shape[2], fps, req)


def check_file(path: Path, req: GenRequest) -> str | None:
    """The same checks on a finished video file (probed, not decoded): frames, size and its own fps."""
    from uvc_bench.video_io import probe_video
    from uvc_data.errors import BadInputError

    try:
        p = probe_video(path)
    except BadInputError as exc:
        return f"{path}: {exc}"
    return shape_mismatch(p.num_frames, p.height, p.width, p.fps or None, req)
