"""imaging_quality: MUSIQ with the SPAQ checkpoint (pyiqa's MUSIQ architecture as VBench builds it, implemented natively
in uvc_bench.metrics.nets.musiq); frames whose longer side exceeds 512 are resized to 512 (bilinear, no antialias);
per video the mean MUSIQ score (0–100 scale); the suite aggregate divides by 100 (api.AGGREGATE_SCALE)."""
from __future__ import annotations

import numpy as np
import torch

from uvc_bench.metrics.api import DimScore
from uvc_bench.metrics.layout import resolve
from uvc_bench.metrics.nets.musiq import load_musiq
from uvc_bench.metrics.preprocess import musiq_transform, to_nchw


class ImagingQuality:
    backend = "musiq_spaq"

    def __init__(self, model, device: str, batch_size: int):
        self.model, self.device, self.batch_size = model, device, batch_size

    @torch.no_grad()
    def score(self, frames: np.ndarray, fps: float) -> DimScore:
        scores = []
        for i in range(0, len(frames), self.batch_size):
            x = musiq_transform(to_nchw(frames[i : i + self.batch_size])).to(self.device)
            scores.append(self.model(x).reshape(-1).double().cpu())
        # VBench sums the per-frame floats in Python (double precision), then divides by the frame count
        return DimScore(float(torch.cat(scores).mean()), backend=self.backend)

    @classmethod
    def from_config(cls, cfg) -> "ImagingQuality":
        path = resolve(cfg.weights_dir, "musiq_spaq")
        return cls(load_musiq(path, device=cfg.device), cfg.device, cfg.batch_size)
