"""Image encoders loaded from local transformers directories, batched over uint8 frames.

Each encoder maps (N, H, W, 3) uint8 → (N, D) float64 L2-normalised features, preprocessing exactly as VBench does
(uvc_bench.metrics.preprocess) in chunks of `batch_size` frames, so memory is bounded by the batch.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from uvc_bench.metrics.preprocess import clip_transform, dino_transform, to_nchw


class BatchedEncoder:
    def __init__(self, forward: Callable[[torch.Tensor], torch.Tensor],
                 transform: Callable[[torch.Tensor], torch.Tensor], device: str, batch_size: int):
        self.forward, self.transform, self.device, self.batch_size = forward, transform, device, batch_size

    @torch.no_grad()
    def __call__(self, frames_NHWC: np.ndarray) -> np.ndarray:
        out = []
        for i in range(0, len(frames_NHWC), self.batch_size):
            x = self.transform(to_nchw(frames_NHWC[i : i + self.batch_size])).to(self.device)
            f = self.forward(x).float()
            out.append(torch.nn.functional.normalize(f, dim=-1, p=2).cpu().double().numpy())
        return np.concatenate(out)


def load_dino(path, device: str = "cpu", batch_size: int = 16) -> BatchedEncoder:
    """DINO ViT-B/16 as VBench uses it (torch.hub dino_vitb16 → final-norm CLS token): transformers ViTModel's
    last_hidden_state[:, 0], position embeddings interpolated for the non-square 224-short-side input."""
    from transformers import ViTModel

    model = ViTModel.from_pretrained(str(path), add_pooling_layer=False).to(device).eval()

    def forward(x: torch.Tensor) -> torch.Tensor:
        return model(pixel_values=x, interpolate_pos_encoding=True).last_hidden_state[:, 0]

    return BatchedEncoder(forward, dino_transform, device, batch_size)


def load_clip_image(path, device: str = "cpu", batch_size: int = 16) -> BatchedEncoder:
    """CLIP image features as `clip_model.encode_image` (vision tower + projection), from a CLIP or CLIP-vision dir."""
    from transformers import CLIPVisionModelWithProjection

    model = CLIPVisionModelWithProjection.from_pretrained(str(path)).to(device).eval()

    def forward(x: torch.Tensor) -> torch.Tensor:
        return model(pixel_values=x).image_embeds

    enc = BatchedEncoder(forward, clip_transform, device, batch_size)
    enc.dim = int(model.config.projection_dim)  # type: ignore[attr-defined]
    return enc
