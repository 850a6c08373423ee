"""Reference images for R2V and reference+X tasks: the clip's subject cut out onto a white canvas at the working size.

The subject comes from the segmenters (segment.py; the inpainting mask is not reused because it is dilated/boxed).
The frame where the subject is largest is used; pixels outside the subject become white; the subject's box (plus a
margin) is fitted onto a white canvas (uvc_data.vcu.fit_on_white). No subject → the tasks are rejected
("no ref_images: ..."), signal `ref_subject_area` = 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from uvc_data.annotators.base import Annotator, AnnotatorConfig, NothingToAnnotate
from uvc_data.annotators.masks import box_of
from uvc_data.annotators.registry import ANNOTATORS
from uvc_data.annotators.segment import SegmentConfig, Segmenter
from uvc_data.errors import ConfigError
from uvc_data.sample import REF_IMAGES, Sample
from uvc_data.vcu import fit_on_white


def subject_on_white(frame: np.ndarray, mask: np.ndarray, margin: float, height: int, width: int) -> np.ndarray:
    """Cut the subject (bool mask (H, W)) out of `frame`, white elsewhere, crop its box grown by `margin`, and fit it
    onto a white (height, width) canvas → (height, width, 3) uint8."""
    box = box_of(mask)
    if box is None:
        raise NothingToAnnotate("empty subject mask")
    cut = np.where(mask[..., None], frame, np.uint8(255))
    y0, y1, x0, x1 = box
    my, mx = round((y1 - y0) * margin), round((x1 - x0) * margin)
    h, w = mask.shape
    crop = cut[max(0, y0 - my) : min(h, y1 + my), max(0, x0 - mx) : min(w, x1 + mx)]
    return fit_on_white(crop, height, width)


@dataclass
class ReferenceConfig(AnnotatorConfig):
    backend: str = "segment"
    margin: float = 0.05  # grow the subject box by this fraction of its size on each side
    segment: SegmentConfig = field(default_factory=SegmentConfig)

    backends: ClassVar[tuple[str, ...]] = ("segment",)

    def validate(self) -> None:
        super().validate()
        if "box" in self.segment.segmenters:
            raise ConfigError("segment.segmenters", "'box' finds no subject: use 'selfie' and/or 'saliency'")
        if not 0 <= self.margin <= 1:
            raise ConfigError("margin", "must be in [0, 1]")


@ANNOTATORS.register("reference", ReferenceConfig)
class ReferenceAnnotator(Annotator):
    name = "reference"
    condition = REF_IMAGES

    def __init__(self, config: ReferenceConfig) -> None:
        super().__init__(config)
        self.config: ReferenceConfig = config

    def load(self) -> Segmenter:
        return Segmenter(self.config.segment)

    def annotate(self, sample: Sample) -> list[np.ndarray]:
        found = self.model.for_sample(sample)
        if found is None:
            sample.signals["ref_subject_area"] = 0.0
            raise NothingToAnnotate(f"no subject found by {list(self.config.segment.segmenters)}")
        masks, source = found
        self.stats[f"segmenter_{source}"] += 1
        area = masks.reshape(len(masks), -1).mean(1)
        best = int(np.argmax(area))
        sample.signals["ref_subject_area"] = float(area[best])
        h, w = sample.size
        return [subject_on_white(sample.frames[best], masks[best], self.config.margin, h, w)]
