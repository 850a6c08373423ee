"""aesthetic_quality: CLIP ViT-L/14 image feature (L2-normalised) → LAION aesthetic predictor v1 (Linear 768→1,
sa_0_4_vit_l_14_linear.pth) → /10; per video the mean over frames."""
from __future__ import annotations

import numpy as np
import torch

from uvc_bench.metrics.api import DimScore, resolve_clip_dtype
from uvc_bench.metrics.backbones import BatchedEncoder, load_clip_image
from uvc_bench.metrics.layout import resolve
from uvc_data.errors import BadInputError


def load_laion_head(path, in_features: int) -> torch.nn.Linear:
    """The LAION aesthetic v1 linear head from its state dict ({"weight": (1, D), "bias": (1,)}), weights_only."""
    state = torch.load(str(path), map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or set(state) != {"weight", "bias"}:
        keys = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise BadInputError(f"{path}: expected a Linear state dict with keys weight/bias, got {keys}; "
                            "use the LAION aesthetic predictor v1 file sa_0_4_vit_l_14_linear.pth")
    out_f, in_f = state["weight"].shape
    if out_f != 1 or in_f != in_features:
        raise BadInputError(f"{path}: head is Linear({in_f}→{out_f}) but the CLIP ViT-L/14 feature has {in_features} "
                            "dims; pair sa_0_4_vit_l_14_linear.pth with openai/clip-vit-large-patch14")
    head = torch.nn.Linear(in_f, 1)
    head.load_state_dict(state)
    return head.eval()


class AestheticQuality:
    backend = "laion_v1"

    def __init__(self, encoder: BatchedEncoder, head: torch.nn.Linear):
        self.encoder, self.head = encoder, head

    @torch.no_grad()
    def score(self, frames: np.ndarray, fps: float) -> DimScore:
        feats = torch.from_numpy(self.encoder(frames)).float()  # (T, 768), L2-normalised
        per_frame = self.head(feats).squeeze(-1) / 10.0
        return DimScore(float(per_frame.mean()), backend=self.backend)

    @classmethod
    def from_config(cls, cfg) -> "AestheticQuality":
        head_path = resolve(cfg.weights_dir, "laion_aesthetic")
        encoder = load_clip_image(resolve(cfg.weights_dir, "clip_vitl14"), cfg.device, cfg.batch_size,
                                  resolve_clip_dtype(cfg.clip_dtype, cfg.device))
        return cls(encoder, load_laion_head(head_path, encoder.dim))
