"""RAFT (Teed & Deng, "RAFT: Recurrent All-Pairs Field Transforms for Optical Flow", ECCV 2020), basic model,
eval only: features → all-pairs correlation pyramid → iterated GRU updates of the flow at 1/8 → convex upsampling.
Module names follow the official code so raft-things.pth loads strictly (load.py)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from uvc_data.nets.raft.config import RAFTConfig
from uvc_data.nets.raft.corr import CorrLookup, coords_grid
from uvc_data.nets.raft.encoder import BasicEncoder
from uvc_data.nets.raft.update import UpdateBlock


def normalize_images(x: torch.Tensor) -> torch.Tensor:
    """[0, 255] → [−1, 1]: 2·(x/255) − 1, as the official forward does."""
    return 2 * (x / 255.0) - 1.0


def convex_upsample(flow_B2HW: torch.Tensor, mask_logits_BKHW: torch.Tensor, factor: int = 8) -> torch.Tensor:
    """Paper §3.3 "Upsampling": each fine pixel is a convex combination (softmax over 9 weights) of the 3×3 coarse
    neighbours of `factor`·flow. mask (B, 9·f·f, H, W) → flow (B, 2, f·H, f·W)."""
    b, _, h, w = flow_B2HW.shape
    weights_B19ffHW = torch.softmax(mask_logits_BKHW.view(b, 1, 9, factor, factor, h, w), dim=2)
    neigh_B29HW = F.unfold(factor * flow_B2HW, [3, 3], padding=1).view(b, 2, 9, 1, 1, h, w)
    up_B2ffHW = torch.sum(weights_B19ffHW * neigh_B29HW, dim=2)
    return up_B2ffHW.permute(0, 1, 4, 2, 5, 3).reshape(b, 2, factor * h, factor * w)


class RAFT(nn.Module):
    """forward(image1, image2, iters=20) with images (B, 3, H, W) in [0, 255], H and W multiples of 8 (pad with
    InputPadder-style replicate padding first). test_mode=True → (flow at 1/8, upsampled flow (B, 2, H, W)), as the
    official `test_mode`; test_mode=False → the upsampled flow after every iteration (a list of `iters`)."""

    def __init__(self, cfg: RAFTConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or RAFTConfig()
        cfg.validate()
        self.fnet = BasicEncoder(cfg.feature_dim, "instance", cfg.encoder_dims)
        self.cnet = BasicEncoder(cfg.hidden_dim + cfg.context_dim, "batch", cfg.encoder_dims)
        self.update_block = UpdateBlock(cfg)

    def forward(self, image1: torch.Tensor, image2: torch.Tensor, iters: int = 20, test_mode: bool = True):
        cfg = self.cfg
        if iters < 1:
            raise ValueError(f"iters must be ≥ 1 (RAFT / VBench use 20), got {iters}")
        h, w = image1.shape[-2:]
        if h % cfg.upsample or w % cfg.upsample:
            raise ValueError(f"RAFT needs image sizes divisible by {cfg.upsample}, got {h}×{w}; pad the frames first "
                             "(uvc_bench.metrics.preprocess.pad_replicate)")
        if min(h, w) < cfg.min_size:
            raise ValueError(f"RAFT needs images of at least {cfg.min_size} px per side, got {h}×{w} (its coarsest "
                             "correlation level would be 1 cell wide; the official code returns NaN there); "
                             "upscale the frames first")
        image1, image2 = normalize_images(image1).contiguous(), normalize_images(image2).contiguous()
        b = image1.shape[0]
        fmap1, fmap2 = self.fnet(torch.cat([image1, image2])).float().split([b, b])  # (B, D, H/8, W/8) each
        corr = CorrLookup(fmap1, fmap2, cfg.corr_levels, cfg.corr_radius)
        hidden, context = self.cnet(image1).split([cfg.hidden_dim, cfg.context_dim], dim=1)
        hidden, context = torch.tanh(hidden), torch.relu(context)
        coords0 = coords_grid(b, h // cfg.upsample, w // cfg.upsample, image1.device)
        coords1 = coords0.clone()  # flow f = coords1 − coords0, initialised to 0
        flows_up = []
        for it in range(iters):
            need_mask = not test_mode or it == iters - 1  # the mask only matters where the flow is upsampled
            hidden, mask, delta = self.update_block(hidden, context, corr(coords1), coords1 - coords0, need_mask)
            coords1 = coords1 + delta  # f_{k+1} = f_k + Δf
            if need_mask:
                flows_up.append(convex_upsample(coords1 - coords0, mask, cfg.upsample))
        if test_mode:
            return coords1 - coords0, flows_up[-1]
        return flows_up
