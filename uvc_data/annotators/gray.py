"""Gray control video (colourisation task): OpenCV luma, repeated to 3 channels. Same offline and in production."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from uvc_data.annotators.base import Annotator, AnnotatorConfig
from uvc_data.annotators.registry import ANNOTATORS
from uvc_data.sample import Sample


def to_gray3(frames: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB → (T, H, W, 3) uint8 with R = G = B = OpenCV's BT.601 luma."""
    import cv2

    out = np.empty_like(frames)
    for i, f in enumerate(frames):
        out[i] = cv2.cvtColor(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    return out


@dataclass
class GrayConfig(AnnotatorConfig):
    backend: str = "opencv"
    backends: ClassVar[tuple[str, ...]] = ("opencv",)


@ANNOTATORS.register("gray", GrayConfig)
class GrayAnnotator(Annotator):
    name = "gray"
    condition = "gray"

    def load(self) -> Any:
        return to_gray3

    def annotate(self, sample: Sample) -> np.ndarray:
        return self.model(sample.frames)
