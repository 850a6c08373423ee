"""subject_consistency (DINO ViT-B/16) and background_consistency (CLIP ViT-B/32): VBench's consistency formula
(uvc_bench.metrics.formulas.consistency_terms) on per-frame features; weight = number of frame pairs."""
from __future__ import annotations

import numpy as np

from uvc_bench.metrics.api import DimScore, resolve_clip_dtype
from uvc_bench.metrics.backbones import BatchedEncoder, load_clip_image, load_dino
from uvc_bench.metrics.formulas import consistency_terms
from uvc_bench.metrics.layout import resolve


class FeatureConsistency:
    def __init__(self, encoder: BatchedEncoder, backend: str):
        self.encoder, self.backend = encoder, backend

    def score(self, frames: np.ndarray, fps: float) -> DimScore:
        terms = consistency_terms(self.encoder(frames))  # (T−1,)
        return DimScore(float(terms.mean()), weight=float(len(terms)), backend=self.backend)


class SubjectConsistency(FeatureConsistency):
    @classmethod
    def from_config(cls, cfg) -> "SubjectConsistency":
        path = resolve(cfg.weights_dir, "dino_vitb16")
        return cls(load_dino(path, cfg.device, cfg.batch_size), "dino_vitb16")


class BackgroundConsistency(FeatureConsistency):
    @classmethod
    def from_config(cls, cfg) -> "BackgroundConsistency":
        path = resolve(cfg.weights_dir, "clip_vitb32")
        return cls(load_clip_image(path, cfg.device, cfg.batch_size, resolve_clip_dtype(cfg.clip_dtype, cfg.device)),
                   "clip_vitb32")
