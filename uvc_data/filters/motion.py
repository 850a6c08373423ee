"""Motion filter: mean optical-flow magnitude as a fraction of the frame width per frame (`flow_motion`).

Reuses the flow annotator's `flow_motion` signal when it is already computed; otherwise runs DIS flow at a low
resolution on frames `stride` apart (divided by the stride) and records `motion`.

Not a default clip filter (uvc_data.filters.DEFAULT_CLIP_FILTERS says why): fixed-camera footage with people walking
through measures 0.0003–0.0009, below `min_motion`; flow tasks get their motion check from `task_aware`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from uvc_data.annotators.flow import dis_flow
from uvc_data.annotators.flow_color import motion_magnitude
from uvc_data.errors import ConfigError
from uvc_data.filters.base import FILTERS, Filter
from uvc_data.sample import Sample


def estimate_motion(frames: np.ndarray, scale: float, stride: int, preset: str) -> float:
    """Mean |flow| / width per frame from DIS on every `stride`-th frame at `scale` of the size."""
    sub = frames[::stride]
    if len(sub) < 2:
        sub = frames[[0, -1]]
        stride = max(len(frames) - 1, 1)
    flows = dis_flow(sub, preset, scale)
    return motion_magnitude(flows, frames.shape[2]) / stride


@dataclass
class MotionConfig:
    min_motion: float = 0.001  # fraction of the width per frame (0.001 at 832 px ≈ 0.8 px/frame)
    max_motion: float = 0.1  # 0 = no upper limit (very large: shaky camera or a missed cut)
    scale: float = 0.25
    stride: int = 2
    preset: Literal["ultrafast", "fast", "medium"] = "fast"

    def validate(self) -> None:
        if self.min_motion < 0 or (self.max_motion and self.max_motion <= self.min_motion):
            raise ConfigError("max_motion", "need 0 ≤ min_motion < max_motion (or max_motion = 0)")
        if not 0.05 <= self.scale <= 1 or self.stride < 1:
            raise ConfigError("scale", "need scale in [0.05, 1] and stride ≥ 1")


@FILTERS.register("motion", MotionConfig)
class MotionFilter(Filter):
    name = "motion"

    def check(self, sample: Sample) -> str | None:
        c = self.config
        if "flow_motion" in sample.signals:
            m = float(sample.signals["flow_motion"])
            self.stats["reused_flow"] += 1
        else:
            m = estimate_motion(sample.frames, c.scale, c.stride, c.preset)
        sample.signals["motion"] = m
        if m < c.min_motion:
            return f"too little motion {m:.5f} < min_motion {c.min_motion}"
        if c.max_motion and m > c.max_motion:
            return f"too much motion {m:.4f} > max_motion {c.max_motion}"
        return None
