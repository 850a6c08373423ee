"""imaging_quality: MUSIQ with the SPAQ checkpoint (pyiqa's MUSIQ architecture as VBench builds it, implemented natively
in uvc_bench.metrics.nets.musiq); frames whose longer side exceeds 512 are resized to 512 (bilinear, no antialias);
per video the mean MUSIQ score (0–100 scale); the suite aggregate divides by 100 (api.AGGREGATE_SCALE)."""
from __future__ import annotations

import math

import numpy as np
import torch

from uvc_bench.metrics.api import DimScore
from uvc_bench.metrics.layout import resolve
from uvc_bench.metrics.nets.musiq import MusiqConfig, load_musiq
from uvc_bench.metrics.preprocess import musiq_transform, to_nchw

MUSIQ_STEM_BUDGET_BYTES = 1 << 30


def musiq_stem_bytes(height: int, width: int, cfg: MusiqConfig = MusiqConfig()) -> int:
    """Bytes of one float32 stem activation for one frame of H×W (after the 'longer' resize): every token's patch
    after the stride-2 root conv, resnet_token_dim × (P/2)², over the resized scales' ⌈L/P⌉² tokens and the
    original resolution's ⌈H/P⌉·⌈W/P⌉ (a 512×295 frame: 353 tokens, 23 MB; several such tensors are alive at once)."""
    p = cfg.patch_size
    tokens = sum(math.ceil(length / p) ** 2 for length in cfg.longer_side_lengths)
    if cfg.max_seq_len_from_original_res is not None:
        tokens += math.ceil(height / p) * math.ceil(width / p)
    return tokens * cfg.resnet_token_dim * (p // 2) ** 2 * 4


def musiq_frames_per_forward(batch_size: int, height: int, width: int, device: str) -> int:
    """Frames per MUSIQ forward: 1 on CPU — the patch stem is memory-bound there, one frame at a time is the fastest
    (512×295, 2 threads: 0.20 s/frame at 1, 0.25 at 2, 0.48 at 16; docs/benchmarks.md) — else `batch_size`, lowered
    so four stem activations fit MUSIQ_STEM_BUDGET_BYTES; at least 1."""
    if not str(device).startswith("cuda"):
        return 1
    return max(1, min(batch_size, MUSIQ_STEM_BUDGET_BYTES // (4 * musiq_stem_bytes(height, width))))


class ImagingQuality:
    backend = "musiq_spaq"

    def __init__(self, model, device: str, batch_size: int):
        self.model, self.device, self.batch_size = model, device, batch_size

    @torch.no_grad()
    def score(self, frames: np.ndarray, fps: float) -> DimScore:
        scores = []
        h, w = musiq_transform(to_nchw(frames[:1])).shape[-2:]
        step = musiq_frames_per_forward(self.batch_size, h, w, self.device)
        for i in range(0, len(frames), step):
            x = musiq_transform(to_nchw(frames[i : i + step])).to(self.device)
            scores.append(self.model(x).reshape(-1).double().cpu())
        # VBench sums the per-frame floats in Python (double precision), then divides by the frame count
        return DimScore(float(torch.cat(scores).mean()), backend=self.backend)

    @classmethod
    def from_config(cls, cfg) -> "ImagingQuality":
        path = resolve(cfg.weights_dir, "musiq_spaq")
        return cls(load_musiq(path, device=cfg.device), cfg.device, cfg.batch_size)
