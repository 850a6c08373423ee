"""The one record that flows through every stage of the dataset builder, and is read back by trainer and bench.

Shapes: frames (T, H, W, 3) uint8 RGB at the working size; control videos the same; masks (T, H, W) uint8 with
255 = generate (VACE mask video: white = generate); reference images (H, W, 3) uint8 already on a white canvas.

Between stages of the Ray executor a Sample travels as bytes (uvc_data.writer.transport) and arrives with read-only
frames and conditions that decode when read; in a stage declared `lazy_frames` its `frames` is a `LazyFrames`
(indexable like the array, decoding only the frames it is indexed at). So steps never change the clip or a
condition in place: they assign a new array.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

# Sample.conditions keys besides the control videos (uvc_data.tasks.CONTROL_CONDITIONS).
OUTPAINT_MASK = "outpaint_mask"
INPAINT_MASK = "inpaint_mask"
REF_IMAGES = "ref_images"


@dataclass(frozen=True)
class VideoInput:
    """One input file of a build. `source_id` is stable across runs (derived from the path as given and its size)."""

    path: str
    source_id: str
    index: int = 0  # position in the sorted input list: fixes the order of shards


@dataclass
class Provenance:
    source: str  # the input path as given
    source_id: str
    shot: int  # shot index in the source
    clip: int  # clip index in the source (over all shots)
    start_s: float  # clip start in source time (seconds)
    end_s: float
    src_fps: float
    src_width: int  # as displayed (rotation applied)
    src_height: int
    rotation: int = 0
    input_index: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Sample:
    key: str  # unique, filesystem- and WebDataset-safe (no dots)
    frames: np.ndarray | None  # (T, H, W, 3) uint8 (a transport.LazyFrames in a lazy_frames stage)
    fps: float
    provenance: Provenance
    prompt: str = ""
    conditions: dict[str, Any] = field(default_factory=dict)  # a mapping (transport.Conditions after a hop)
    tasks: list[str] = field(default_factory=list)  # tasks this sample serves, after filters
    rejected: dict[str, str] = field(default_factory=dict)  # task (or "clip") → why it was rejected
    signals: dict[str, float] = field(default_factory=dict)  # measurements (motion, blur, person, ...)
    split: str = "train"
    # per-sample intermediate results steps share (e.g. subject masks used by two annotators); never written to
    # shards, and dropped when the sample is pickled (between Ray stages)
    scratch: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["scratch"] = {}
        return state

    @property
    def num_frames(self) -> int:
        return 0 if self.frames is None else int(self.frames.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        assert self.frames is not None
        return int(self.frames.shape[1]), int(self.frames.shape[2])

    def reject(self, task: str, reason: str) -> None:
        """Drop `task` (or "clip" for all tasks) from this sample, recording why."""
        if task == "clip":
            for t in self.tasks:
                self.rejected.setdefault(t, reason)
            self.tasks = []
            self.rejected["clip"] = reason
            return
        if task in self.tasks:
            self.tasks.remove(task)
        self.rejected.setdefault(task, reason)
