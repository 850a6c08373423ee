"""Discriminator heads on the fake-score network's hidden states (method.md, "Networks", D_τ).

Per tapped block k (official: main blocks 23, 31, 39 of 14B; 13, 21, 29 of 1.3B):
    q_k = RMSNorm(r_k)                     learnable register token r_k ∈ R^512, init N(0, 0.02)      (DH-1)
    h_k = q_k + MHA(q_k, K=V=W_in·h^(k))   8-head cross-attention, block tokens projected to 512       (DH-2)
    h_k = h_k + FFN(LN(h_k));  o_k = W_out·h_k ∈ R^{feature_dim}   FFN, then projection back           (DH-3)
Logit:
    D = Linear(SiLU(Linear(LayerNorm([o_1; o_2; o_3; s·e]))))  with s = 10 (official 10·time embedding)  (DH-4)
"""
from __future__ import annotations

import torch
from torch import Tensor, nn


class RegisterCrossAttention(nn.Module):
    """One head: a learnable register token reads one block's tokens (DH-1…DH-3)."""

    def __init__(self, feature_dim: int, reg_dim: int = 512, attn_heads: int = 8, ffn_mult: int = 4):
        super().__init__()
        if reg_dim % attn_heads != 0:
            raise ValueError(f"reg_dim {reg_dim} must be divisible by attn_heads {attn_heads}")
        self.register = nn.Parameter(torch.randn(1, 1, reg_dim) * 0.02)  # r_k, N(0, 0.02)
        self.norm_q = nn.RMSNorm(reg_dim)
        self.proj_in = nn.Linear(feature_dim, reg_dim)
        self.norm_kv = nn.RMSNorm(reg_dim)
        self.attn = nn.MultiheadAttention(reg_dim, attn_heads, batch_first=True)
        self.norm_ffn = nn.LayerNorm(reg_dim)
        self.ffn = nn.Sequential(nn.Linear(reg_dim, ffn_mult * reg_dim), nn.GELU(approximate="tanh"),
                                 nn.Linear(ffn_mult * reg_dim, reg_dim))
        self.proj_out = nn.Linear(reg_dim, feature_dim)

    def forward(self, tokens_BND: Tensor) -> Tensor:
        """[B, N, feature_dim] block tokens → [B, feature_dim]."""
        B = tokens_BND.shape[0]
        q = self.norm_q(self.register).expand(B, -1, -1)  # [B, 1, R]
        kv = self.norm_kv(self.proj_in(tokens_BND))  # [B, N, R]
        h = q + self.attn(q, kv, kv, need_weights=False)[0]  # [B, 1, R]
        h = h + self.ffn(self.norm_ffn(h))
        return self.proj_out(h).squeeze(1)  # [B, feature_dim]


class DiscriminatorHeads(nn.Module):
    """D_τ: register cross-attention heads on `num_blocks` hidden states + time embedding → one logit (DH-4).

    head_hidden: width of the final MLP (default reg_dim; not fixed by method.md).
    """

    def __init__(
        self,
        feature_dim: int,
        num_blocks: int = 3,
        reg_dim: int = 512,
        attn_heads: int = 8,
        time_dim: int | None = None,
        time_scale: float = 10.0,
        head_hidden: int | None = None,
    ):
        super().__init__()
        if num_blocks < 1:
            raise ValueError(f"num_blocks must be >= 1 (official 3), got {num_blocks}")
        self.num_blocks = num_blocks
        self.time_dim = feature_dim if time_dim is None else time_dim
        self.time_scale = time_scale
        self.heads = nn.ModuleList(RegisterCrossAttention(feature_dim, reg_dim, attn_heads) for _ in range(num_blocks))
        in_dim = num_blocks * feature_dim + self.time_dim
        hidden = reg_dim if head_hidden is None else head_hidden
        self.out = nn.Sequential(nn.LayerNorm(in_dim), nn.Linear(in_dim, hidden), nn.SiLU(), nn.Linear(hidden, 1))

    def forward(self, features: list[Tensor], temb: Tensor) -> Tensor:
        """features: num_blocks × [B, N, feature_dim]; temb [B, time_dim] → logits [B] (DH-4)."""
        if len(features) != self.num_blocks:
            raise ValueError(f"expected hidden states of {self.num_blocks} blocks, got {len(features)}; "
                             f"set num_blocks to the number of tapped blocks")
        if temb.ndim != 2 or temb.shape[-1] != self.time_dim:
            raise ValueError(f"time embedding must be [B, {self.time_dim}], got {tuple(temb.shape)}; set time_dim")
        outs = [head(h) for head, h in zip(self.heads, features)]  # num_blocks × [B, feature_dim]
        z = torch.cat([*outs, self.time_scale * temb.to(outs[0].dtype)], dim=-1)  # [B, nb·F + time_dim]
        return self.out(z).squeeze(-1)
