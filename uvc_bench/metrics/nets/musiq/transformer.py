"""MUSIQ's transformer encoder (ViT-style, pre-norm) with hash-based spatial and scale embeddings (MUSIQ §3.2–3.3).

Parameter names match pyiqa's TransformerEncoder: posembed_input.position_emb, scaleembed_input.scale_emb, cls,
encoder_norm, transformer.encoderblock_{i}.{norm1, attention.{query,key,value,out}, norm2, mlp.{fc1,fc2}}.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from uvc_bench.metrics.nets.musiq.config import MusiqConfig

MASKED_LOGIT = -1e3  # pyiqa fills masked attention logits with −1000 (not −inf), query and key padding alike


def pair_mask(mask_NL: torch.Tensor) -> torch.Tensor:
    """(N, 1, L, L) True where the logit's query AND key are real tokens (pyiqa: mask_h · mask_w)."""
    return mask_NL[:, None, :, None] & mask_NL[:, None, None, :]


def masked_attention_logits(q_NHLd: torch.Tensor, k_NHLd: torch.Tensor, valid_N1LL: torch.Tensor) -> torch.Tensor:
    """Scaled dot-product logits QKᵀ·d^−½ (Vaswani et al. 2017, Eq. 1); entries whose query OR key is padding are
    set to −1000, as pyiqa does."""
    logits_NHLL = (q_NHLd @ k_NHLd.transpose(-2, -1)) * q_NHLd.shape[-1] ** -0.5
    return logits_NHLL.masked_fill(~valid_N1LL, MASKED_LOGIT)


class MultiHeadAttention(nn.Module):
    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x_NLD: torch.Tensor, valid_N1LL: torch.Tensor) -> torch.Tensor:
        n, length, dim = x_NLD.shape

        def heads(t: torch.Tensor) -> torch.Tensor:  # (N, L, D) → (N, H, L, D/H)
            return t.reshape(n, length, self.num_heads, dim // self.num_heads).permute(0, 2, 1, 3)

        q, k, v = heads(self.query(x_NLD)), heads(self.key(x_NLD)), heads(self.value(x_NLD))
        attn_NHLL = masked_attention_logits(q, k, valid_N1LL).softmax(dim=-1)
        return self.out((attn_NHLL @ v).transpose(1, 2).reshape(n, length, dim))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class EncoderBlock(nn.Module):
    """x + MHA(LN(x)), then x + MLP(LN(x)); LayerNorm eps 1e-6."""

    def __init__(self, dim: int, mlp_dim: int, num_heads: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attention = MultiHeadAttention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, mlp_dim)

    def forward(self, x_NLD: torch.Tensor, valid_N1LL: torch.Tensor) -> torch.Tensor:
        x_NLD = x_NLD + self.attention(self.norm1(x_NLD), valid_N1LL)
        return x_NLD + self.mlp(self.norm2(x_NLD))


class HashSpatialEmbedding(nn.Module):
    """Learnable G×G grid of position embeddings, looked up by hashed position (MUSIQ Eq. 2)."""

    def __init__(self, grid: int, dim: int):
        super().__init__()
        self.position_emb = nn.Parameter(torch.zeros(1, grid * grid, dim))

    def forward(self, x_NLD: torch.Tensor, spatial_NL: torch.Tensor) -> torch.Tensor:
        return x_NLD + self.position_emb[0][spatial_NL]


class ScaleEmbedding(nn.Module):
    """Learnable per-scale embedding (MUSIQ §3.3)."""

    def __init__(self, num_scales: int, dim: int):
        super().__init__()
        self.scale_emb = nn.Parameter(torch.zeros(num_scales, dim))

    def forward(self, x_NLD: torch.Tensor, scale_NL: torch.Tensor) -> torch.Tensor:
        return x_NLD + self.scale_emb[scale_NL]


class TransformerEncoder(nn.Module):
    def __init__(self, cfg: MusiqConfig):
        super().__init__()
        dim = cfg.hidden_size
        self.use_scale_emb = cfg.use_scale_emb
        self.posembed_input = HashSpatialEmbedding(cfg.spatial_pos_grid_size, dim)
        self.scaleembed_input = ScaleEmbedding(cfg.num_scales, dim)  # pyiqa keeps it even when unused
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.encoder_norm = nn.LayerNorm(dim, eps=1e-6)
        self.transformer = nn.ModuleDict({f"encoderblock_{i}": EncoderBlock(dim, cfg.mlp_dim, cfg.num_heads)
                                          for i in range(cfg.num_layers)})

    def forward(self, x_NLD: torch.Tensor, spatial_NL: torch.Tensor, scale_NL: torch.Tensor,
                mask_NL: torch.Tensor) -> torch.Tensor:
        """Adds the embeddings, prepends the (always valid) CLS token; returns (N, 1 + L, D) after the final norm."""
        x = self.posembed_input(x_NLD, spatial_NL)
        if self.use_scale_emb:
            x = self.scaleembed_input(x, scale_NL)
        n = x.shape[0]
        x = torch.cat([self.cls.expand(n, -1, -1), x], dim=1)
        valid = pair_mask(torch.cat([mask_NL.new_ones((n, 1)), mask_NL], dim=1))
        for block in self.transformer.values():
            x = block(x, valid)
        return self.encoder_norm(x)
