"""Discriminator heads D_τ on the fake-score network's hidden states (method.md, "Networks", D_τ).

Both variants read main blocks k (official: 23, 31, 39 of 14B; 13, 21, 29 of 1.3B) with one learnable register token
r_k each (init N(0, 0.02), RMS-normed) that cross-attends to the block's tokens, and end in (DH-4)
    D = Linear(SiLU(Linear(LayerNorm([o_1; o_2; o_3; s·e]))))     s = 10 (official 10·time embedding e)

`official` (default; the official VACE wrapper's `GanAttentionBlock`, `RegisterTokens`, `_cls_pred_branch`):
    x_k = LN(R)(W₂·GELU(W₁·LN(F)(h^(k))))                 proj-in F → F → R                        (DHO-1)
    a_k = W_o·MHA(RMSNorm(W_q q_k), RMSNorm(W_k x_k), W_v x_k)   q_k = RMSNorm(r_k), 8 heads at R     (DHO-2)
    y_k = q_k + a_k;  y_k ← y_k + FFN(LN₀(y_k))            FFN R → ffn_dim → R, tanh-GELU, LN₀ no affine (DHO-3)
    o_k = LN(F)(W₄·GELU(W₃·LN(R)(y_k)))                    proj-out R → R → F                       (DHO-4)
    final MLP width F.  ≈ 246 M parameters at the 14B width (F 5120, R 512, ffn 13824; `official_head_params`).
`compact` (the earlier, ≈ 7× smaller head): linear proj-in/out, no qk-norm (kv RMS-normed instead), FFN 4·R, final MLP
width R (DH-1…DH-3 in docs/vdot_math.md).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F_
from torch import Tensor, nn


class _Heads(nn.Module):
    """Shared input checks and DH-4 over the per-block outputs o_k."""

    def __init__(self, feature_dim: int, num_blocks: int, time_dim: int | None, time_scale: float, hidden: int):
        super().__init__()
        if num_blocks < 1:
            raise ValueError(f"num_blocks must be >= 1 (official 3), got {num_blocks}")
        self.num_blocks = num_blocks
        self.time_dim = feature_dim if time_dim is None else time_dim
        self.time_scale = time_scale
        in_dim = num_blocks * feature_dim + self.time_dim
        self.out = nn.Sequential(nn.LayerNorm(in_dim), nn.Linear(in_dim, hidden), nn.SiLU(), nn.Linear(hidden, 1))

    def block_outputs(self, features: list[Tensor]) -> list[Tensor]:
        raise NotImplementedError

    def forward(self, features: list[Tensor], temb: Tensor) -> Tensor:
        """features: num_blocks × [B, N, feature_dim]; temb [B, time_dim] → logits [B] (DH-4)."""
        if len(features) != self.num_blocks:
            raise ValueError(f"expected hidden states of {self.num_blocks} blocks, got {len(features)}; "
                             f"set num_blocks to the number of tapped blocks")
        if temb.ndim != 2 or temb.shape[-1] != self.time_dim:
            raise ValueError(f"time embedding must be [B, {self.time_dim}], got {tuple(temb.shape)}; set time_dim")
        outs = self.block_outputs(features)  # num_blocks × [B, feature_dim]
        z = torch.cat([*outs, self.time_scale * temb.to(outs[0].dtype)], dim=-1)  # [B, nb·F + time_dim]
        return self.out(z).squeeze(-1).clone()  # not a view: an FSDP2 unit's output keeps its backward hook


# --- official -------------------------------------------------------------------------------------------------------
def _mlp_proj(d_in: int, d_out: int) -> nn.Sequential:
    """LN(d_in) → Linear(d_in, d_in) → GELU → Linear(d_in, d_out) → LN(d_out) (the official `MLPProj`)."""
    return nn.Sequential(nn.LayerNorm(d_in), nn.Linear(d_in, d_in), nn.GELU(), nn.Linear(d_in, d_out),
                         nn.LayerNorm(d_out))


class OfficialBlockHead(nn.Module):
    """DHO-1…DHO-4 for one tapped block."""

    def __init__(self, feature_dim: int, reg_dim: int = 512, attn_heads: int = 8, ffn_dim: int = 13824):
        super().__init__()
        if reg_dim % attn_heads != 0:
            raise ValueError(f"reg_dim {reg_dim} must be divisible by attn_heads {attn_heads}")
        self.attn_heads = attn_heads
        self.proj_in = _mlp_proj(feature_dim, reg_dim)
        self.q, self.k, self.v, self.o = (nn.Linear(reg_dim, reg_dim) for _ in range(4))
        self.norm_q, self.norm_k = nn.RMSNorm(reg_dim, eps=1e-6), nn.RMSNorm(reg_dim, eps=1e-6)
        self.norm_ffn = nn.LayerNorm(reg_dim, eps=1e-6, elementwise_affine=False)
        self.ffn = nn.Sequential(nn.Linear(reg_dim, ffn_dim), nn.GELU(approximate="tanh"), nn.Linear(ffn_dim, reg_dim))
        self.proj_out = _mlp_proj(reg_dim, feature_dim)

    def forward(self, tokens_BND: Tensor, query_B1R: Tensor) -> Tensor:
        """Block tokens [B, N, F] and the normed register [B, 1, R] → o_k [B, F]."""
        B, N, _ = tokens_BND.shape
        h, R = self.attn_heads, query_B1R.shape[-1]
        x = self.proj_in(tokens_BND)  # [B, N, R]
        q = self.norm_q(self.q(query_B1R)).view(B, 1, h, R // h).transpose(1, 2)  # [B, h, 1, R/h]
        k = self.norm_k(self.k(x)).view(B, N, h, R // h).transpose(1, 2)  # [B, h, N, R/h]
        v = self.v(x).view(B, N, h, R // h).transpose(1, 2)
        a = self.o(F_.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, 1, R))  # [B, 1, R]
        y = query_B1R + a
        y = y + self.ffn(self.norm_ffn(y))
        return self.proj_out(y).squeeze(1).clone()  # not a view (an FSDP2 unit under distributed)


class OfficialDiscriminatorHeads(_Heads):
    """The official D_τ: one register per tapped block (a shared RMSNorm over them), DHO-1…4, final MLP width F."""

    def __init__(self, feature_dim: int, num_blocks: int = 3, reg_dim: int = 512, attn_heads: int = 8,
                 ffn_dim: int = 13824, time_dim: int | None = None, time_scale: float = 10.0):
        super().__init__(feature_dim, num_blocks, time_dim, time_scale, hidden=feature_dim)
        self.registers = nn.Parameter(torch.randn(num_blocks, reg_dim) * 0.02)  # r_k, N(0, 0.02)
        self.register_norm = nn.RMSNorm(reg_dim, eps=1e-6)
        self.heads = nn.ModuleList(OfficialBlockHead(feature_dim, reg_dim, attn_heads, ffn_dim)
                                   for _ in range(num_blocks))

    def block_outputs(self, features: list[Tensor]) -> list[Tensor]:
        q = self.register_norm(self.registers)  # [nb, R]
        return [head(h, q[i].expand(h.shape[0], 1, -1).to(h.dtype)) for i, (head, h) in
                enumerate(zip(self.heads, features))]


def official_head_params(feature_dim: int, num_blocks: int = 3, reg_dim: int = 512, ffn_dim: int = 13824,
                         time_dim: int | None = None) -> int:
    """Parameter count of `OfficialDiscriminatorHeads` from its layer sizes (14B: 245,835,777)."""
    F, R, td = feature_dim, reg_dim, feature_dim if time_dim is None else time_dim
    ln, lin = (lambda d: 2 * d), (lambda i, o: i * o + o)
    proj_in = ln(F) + lin(F, F) + lin(F, R) + ln(R)
    attn = 4 * lin(R, R) + 2 * R  # q, k, v, o + RMS-norm weights of q and k
    ffn = lin(R, ffn_dim) + lin(ffn_dim, R)
    proj_out = ln(R) + lin(R, R) + lin(R, F) + ln(F)
    in_dim = num_blocks * F + td
    final = ln(in_dim) + lin(in_dim, F) + lin(F, 1)
    return num_blocks * (proj_in + attn + ffn + proj_out) + num_blocks * R + R + final


# --- compact ----------------------------------------------------------------------------------------------------------
class RegisterCrossAttention(nn.Module):
    """Compact head for one block: a learnable register token reads the block's tokens (DH-1…DH-3)."""

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
        return self.proj_out(h).squeeze(1).clone()  # [B, feature_dim]; not a view (an FSDP2 unit)


class DiscriminatorHeads(_Heads):
    """The compact D_τ (`disc.head = "compact"`): register cross-attention heads + time embedding → one logit.

    head_hidden: width of the final MLP (default reg_dim; the official head uses feature_dim).
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
        super().__init__(feature_dim, num_blocks, time_dim, time_scale, reg_dim if head_hidden is None else head_hidden)
        self.heads = nn.ModuleList(RegisterCrossAttention(feature_dim, reg_dim, attn_heads) for _ in range(num_blocks))

    def block_outputs(self, features: list[Tensor]) -> list[Tensor]:
        return [head(h) for head, h in zip(self.heads, features)]


def build_disc_heads(cfg, feature_dim: int, time_dim: int) -> _Heads:
    """D_τ of a `DiscConfig` (trainer/config.py): the official architecture by default, `compact` on request."""
    if cfg.head == "official":
        return OfficialDiscriminatorHeads(feature_dim, len(cfg.blocks), cfg.reg_dim, cfg.attn_heads, cfg.ffn_dim,
                                          time_dim=time_dim, time_scale=cfg.time_scale)
    if cfg.head == "compact":
        return DiscriminatorHeads(feature_dim, len(cfg.blocks), cfg.reg_dim, cfg.attn_heads, time_dim=time_dim,
                                  time_scale=cfg.time_scale)
    from uvc_data.errors import ConfigError

    raise ConfigError("disc.head", f"must be 'official' or 'compact', got {cfg.head!r}")
