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
                 transform: Callable[[torch.Tensor], torch.Tensor], device: str, batch_size: int,
                 dtype: torch.dtype = torch.float32):
        self.forward, self.transform, self.device, self.batch_size = forward, transform, device, batch_size
        self.dtype = dtype  # the network's input dtype (CLIP's encode_image casts the image to its weights' dtype)

    @torch.no_grad()
    def __call__(self, frames_NHWC: np.ndarray) -> np.ndarray:
        out = []
        for i in range(0, len(frames_NHWC), self.batch_size):
            x = self.transform(to_nchw(frames_NHWC[i : i + self.batch_size])).to(self.device, self.dtype)
            f = self.forward(x).float()
            out.append(torch.nn.functional.normalize(f, dim=-1, p=2).cpu().double().numpy())
        return np.concatenate(out)


def dino_interpolate_pos_encoding(pos_embed: torch.Tensor, patch_size: int, height: int, width: int) -> torch.Tensor:
    """DINO's hub code (vision_transformer.py, interpolate_pos_encoding): the (1, 1 + N, D) table as it is for a
    square input with N patches, else its √N × √N grid resized bicubically by scale_factor ((H/p + 0.1)/√N,
    (W/p + 0.1)/√N) — the +0.1 offset DINO adds against floating-point error — with align_corners False.
    (transformers' ViT resizes to size=(H/p, W/p) instead: other sampling positions.)"""
    import math

    n = pos_embed.shape[1] - 1
    h0, w0 = height // patch_size, width // patch_size
    if h0 * w0 == n and height == width:
        return pos_embed
    side = int(math.sqrt(n))
    dim = pos_embed.shape[-1]
    grid = pos_embed[:, 1:].reshape(1, side, side, dim).permute(0, 3, 1, 2)
    grid = torch.nn.functional.interpolate(grid, scale_factor=((h0 + 0.1) / math.sqrt(n), (w0 + 0.1) / math.sqrt(n)),
                                           mode="bicubic", align_corners=False)
    if tuple(grid.shape[-2:]) != (h0, w0):
        raise RuntimeError(f"DINO position interpolation gave {tuple(grid.shape[-2:])}, expected {(h0, w0)}")
    return torch.cat((pos_embed[:, :1], grid.permute(0, 2, 3, 1).reshape(1, -1, dim)), dim=1)


def _use_dino_pos_encoding(embeddings) -> None:
    """Make a transformers ViTEmbeddings interpolate its position table as DINO's hub code does."""
    import types

    patch = int(embeddings.patch_size if isinstance(embeddings.patch_size, int) else embeddings.patch_size[0])

    def interpolate_pos_encoding(self, emb: torch.Tensor, height: int, width: int) -> torch.Tensor:
        return dino_interpolate_pos_encoding(self.position_embeddings, patch, height, width)

    embeddings.interpolate_pos_encoding = types.MethodType(interpolate_pos_encoding, embeddings)


def load_dino(path, device: str = "cpu", batch_size: int = 16) -> BatchedEncoder:
    """DINO ViT-B/16 as VBench uses it (torch.hub dino_vitb16 → final-norm CLS token): transformers ViTModel's
    last_hidden_state[:, 0], position embeddings interpolated for the non-square 224-short-side input as DINO's own
    code does (dino_interpolate_pos_encoding)."""
    from transformers import ViTModel

    model = ViTModel.from_pretrained(str(path), add_pooling_layer=False).to(device).eval()
    _use_dino_pos_encoding(model.embeddings)

    def forward(x: torch.Tensor) -> torch.Tensor:
        return model(pixel_values=x, interpolate_pos_encoding=True).last_hidden_state[:, 0]

    return BatchedEncoder(forward, dino_transform, device, batch_size)


def load_clip_image(path, device: str = "cpu", batch_size: int = 16, dtype: str = "float32") -> BatchedEncoder:
    """CLIP image features as `clip_model.encode_image` (vision tower + projection), from a CLIP or CLIP-vision dir.
    dtype: the weights' and input's dtype (VBench: float16 on CUDA, float32 on CPU; MetricsConfig.clip_dtype)."""
    from transformers import CLIPVisionModelWithProjection

    torch_dtype = getattr(torch, dtype)
    model = CLIPVisionModelWithProjection.from_pretrained(str(path)).to(device, torch_dtype).eval()

    def forward(x: torch.Tensor) -> torch.Tensor:
        return model(pixel_values=x).image_embeds

    enc = BatchedEncoder(forward, clip_transform, device, batch_size, torch_dtype)
    enc.dim = int(model.config.projection_dim)  # type: ignore[attr-defined]
    return enc
