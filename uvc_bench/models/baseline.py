"""`baseline`: a model that generates nothing — it returns its input, to sanity-check metrics and the harness.

Per request: the VCU's context frames as a video (V2V: the control video; outpainting / extension: the source with
neutral gray where the model should generate; firstframe+X: the real first frame then the control video). R2V (no
video): the first reference image held still for every frame. T2V: a still mid-gray video. Any sensible model should
beat it on quality; condition-fidelity metrics show what "copying the input" scores.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from uvc_data.vcu import to_uint8
from uvc_bench.models.base import GenRequest, GenResult, VideoModel


@dataclass
class BaselineConfig:
    batch_size: int = 4


def baseline_video(req: GenRequest) -> np.ndarray:
    """(T, H, W, 3) uint8 for one request, as the module docstring describes."""
    vcu = req.vcu
    has_video = bool(np.any(vcu.frames != 0.0))
    if not has_video and vcu.refs:
        return np.repeat(to_uint8(vcu.refs[0])[None], vcu.num_frames, axis=0)
    return to_uint8(vcu.frames)


class BaselineModel(VideoModel):
    name = "baseline"
    Config = BaselineConfig

    def generate(self, requests: list[GenRequest]) -> list[GenResult]:
        out = []
        for req in requests:
            t0 = time.perf_counter()
            out.append(GenResult(req.case_id, baseline_video(req), seconds=time.perf_counter() - t0, fps=req.fps))
        return out
