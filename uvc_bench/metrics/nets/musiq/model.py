"""MUSIQ (Ke et al., ICCV 2021) as pyiqa implements it, eval forward only: images in [0, 1] → one score per image.

Parameter names and shapes are pyiqa's, so the published checkpoints load with strict=True (musiq.load).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from uvc_bench.metrics.nets.musiq.config import MusiqConfig
from uvc_bench.metrics.nets.musiq.patches import PatchTokens, multiscale_patches
from uvc_bench.metrics.nets.musiq.stem import Bottleneck, StdConv2d, max_pool_same
from uvc_bench.metrics.nets.musiq.transformer import TransformerEncoder
from uvc_data.errors import BadInputError


def dist_to_mos(p_NC: torch.Tensor) -> torch.Tensor:
    """Mean opinion score of a distribution over score classes 1..C: Σ_c c·p_c (pyiqa arch_util.dist_to_mos)."""
    classes_C = torch.arange(1, p_NC.shape[-1] + 1).to(p_NC)
    return (p_NC * classes_C).sum(dim=-1)


class MUSIQ(nn.Module):
    def __init__(self, cfg: MusiqConfig | None = None):
        super().__init__()
        cfg = cfg or MusiqConfig()
        cfg.validate()
        self.cfg = cfg
        width = cfg.resnet_token_dim
        self.conv_root = StdConv2d(3, width, 7, 2, bias=False)
        self.gn_root = nn.GroupNorm(32, width, eps=1e-6)
        self.block1 = Bottleneck(width, width * 4)
        self.embedding = nn.Linear(cfg.token_dim, cfg.hidden_size)
        self.transformer_encoder = TransformerEncoder(cfg)
        linear = nn.Linear(cfg.hidden_size, cfg.num_class)
        # pyiqa: Sequential(Linear, Softmax) for a class distribution (keys head.0.*), a bare Linear for one score
        self.head = nn.Sequential(linear, nn.Softmax(dim=-1)) if cfg.num_class > 1 else linear

    def embed_patches(self, patches_NL3PP: torch.Tensor) -> torch.Tensor:
        """Stem + linear embedding per patch: (N, L, 3, P, P) → (N, L, hidden); stem outputs are flattened H·W·C
        (TF order)."""
        n, length = patches_NL3PP.shape[:2]
        x = patches_NL3PP.reshape(n * length, *patches_NL3PP.shape[2:])
        x = max_pool_same(F.relu(self.gn_root(self.conv_root(x))))
        x = self.block1(x)  # (N·L, 4·width, P/4, P/4)
        return self.embedding(x.permute(0, 2, 3, 1).reshape(n, length, -1))

    def forward_tokens(self, tokens: PatchTokens) -> torch.Tensor:
        """Scores (N,) of pre-extracted multi-scale tokens."""
        x = self.embed_patches(tokens.patches)
        x = self.transformer_encoder(x, tokens.spatial, tokens.scale, tokens.mask)
        q = self.head(x[:, 0])  # (N, C): a distribution when C > 1
        return dist_to_mos(q) if self.cfg.num_class > 1 else q[:, 0]

    def forward(self, x01_NCHW: torch.Tensor) -> torch.Tensor:
        """x: (N, 3, H, W) float in [0, 1] → (N,) quality scores (SPAQ checkpoint: 0–100 scale)."""
        if x01_NCHW.ndim != 4 or x01_NCHW.shape[1] != 3 or not x01_NCHW.is_floating_point():
            raise BadInputError(f"MUSIQ takes float (N, 3, H, W) images in [0, 1], got {x01_NCHW.dtype} "
                                f"{tuple(x01_NCHW.shape)}; divide uint8 frames by 255 and move channels first")
        x = (x01_NCHW - 0.5) * 2  # [−1, 1], as the official TF code
        return self.forward_tokens(multiscale_patches(x, self.cfg))
