"""AMT-S (Li et al., "AMT: All-Pairs Multi-Field Transforms for Efficient Frame Interpolation", CVPR 2023;
MCG-NKU/AMT networks/AMT-S.py), eval forward only. Module names follow the official checkpoint exactly."""
from __future__ import annotations

import torch
import torch.nn as nn

from uvc_bench.metrics.nets.amt.config import AMTSConfig
from uvc_bench.metrics.nets.amt.correlation import BidirectionalCorrelation
from uvc_bench.metrics.nets.amt.decoders import InitDecoder, IntermediateDecoder, MultiFlowDecoder, multi_flow_combine
from uvc_bench.metrics.nets.amt.feat_enc import FeatureEncoder
from uvc_bench.metrics.nets.amt.ops import coords_grid, resize
from uvc_bench.metrics.nets.amt.pyramid import ContextEncoder
from uvc_bench.metrics.nets.amt.update import UpdateBlock
from uvc_data.errors import BadInputError


def check_network_size(height: int, width: int, levels: int) -> None:
    """The network-resolution frame must be a multiple of 16 (the 1/16 decoder must upsample back onto the 1/8
    correlation grid) and at least 16·2^(levels−1) px (= 128 for AMT-S), so that the coarsest correlation level is
    ≥ 2 px: at 1 px the reference's grid normalisation divides by zero and returns NaN; below, pooling fails."""
    least = 16 * 2 ** (levels - 1)
    if height % 16 or width % 16 or min(height, width) < least:
        raise BadInputError(
            f"AMT-S runs on {height}×{width} px here, but needs multiples of 16 and at least {least}×{least} px; "
            f"pad the frames to a multiple of 16/scale_factor (InputPadder) and score videos of at least "
            f"{least - 15} px per side at scale 1")


def bidirectional_positions(coord_B2HW: torch.Tensor, flow0: torch.Tensor, flow1: torch.Tensor,
                            embt_B111: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Where AMT's `_corr_scale_lookup` reads the correlation, turning the flows from t into whole-interval flows
    under linear motion: C (frame 0 → 1) at x + F_t→1 / t and Cᵀ (frame 1 → 0) at x + F_t→0 / (1 − t)
    (both × 2 at t = ½)."""
    return coord_B2HW + flow1 * (1.0 / embt_B111), coord_B2HW + flow0 * (1.0 / (1.0 - embt_B111))


class AMTS(nn.Module):
    def __init__(self, config: AMTSConfig = AMTSConfig()):
        super().__init__()
        config.validate()
        self.config = config
        c, skip, n = config.channels, config.skip_channels, config.num_flows
        self.feat_encoder = FeatureEncoder(config.feat_dim)
        self.encoder = ContextEncoder(c)
        self.decoder4 = InitDecoder(c[3], c[2], skip)
        self.decoder3 = IntermediateDecoder(c[2], c[1], skip)
        self.decoder2 = IntermediateDecoder(c[1], c[0], skip)
        self.decoder1 = MultiFlowDecoder(c[0], skip, n)
        self.update4 = self._update_block(c[2], None)
        self.update3 = self._update_block(c[1], 2)
        self.update2 = self._update_block(c[0], 4)
        self.comb_block = nn.Sequential(nn.Conv2d(3 * n, 6 * n, 3, 1, 1), nn.PReLU(6 * n), nn.Conv2d(6 * n, 3, 3, 1, 1))

    def _update_block(self, cdim: int, scale: int | None) -> UpdateBlock:
        cfg = self.config
        return UpdateBlock(cdim, cfg.hidden_dim, cfg.flow_dim, cfg.corr_dim, cfg.fc_dim, cfg.corr_planes, scale)

    def _refine(self, update: UpdateBlock, corr_fn: BidirectionalCorrelation, coord: torch.Tensor,
                flow0: torch.Tensor, flow1: torch.Tensor, ft: torch.Tensor, embt: torch.Tensor, downsample: int):
        """Correlation lookup at 1/8 (flows brought down by `downsample`, values too), then the residual update."""
        f0, f1 = flow0, flow1
        if downsample != 1:
            inv = 1 / downsample
            f0, f1 = inv * resize(flow0, inv), inv * resize(flow1, inv)
        corr0, corr1 = corr_fn(*bidirectional_positions(coord, f0, f1, embt))
        delta_ft, delta_flow_B4HW = update(ft, torch.cat([f0, f1], 1), torch.cat([corr0, corr1], 1))
        d0, d1 = torch.chunk(delta_flow_B4HW, 2, 1)
        return flow0 + d0, flow1 + d1, ft + delta_ft

    @torch.no_grad()
    def forward(self, img0: torch.Tensor, img1: torch.Tensor, embt: torch.Tensor,
                scale_factor: float = 1.0) -> torch.Tensor:
        """img0, img1 (B, 3, H, W) in [0, 1], H and W multiples of 16/scale_factor; embt (B, 1, 1, 1) the time t in
        (0, 1). Returns the frame at t, (B, 3, H, W) clamped to [0, 1]. The network runs at `scale_factor` of the
        input size; its flows, masks and residuals are resized back before the full-resolution merge."""
        # per-sample mean over channels, then rows of both frames stacked, then columns (the reference's order)
        mean_B111 = torch.cat([img0, img1], 2).mean(1, keepdim=True).mean(2, keepdim=True).mean(3, keepdim=True)
        img0, img1 = img0 - mean_B111, img1 - mean_B111
        img0_ = resize(img0, scale_factor) if scale_factor != 1.0 else img0
        img1_ = resize(img1, scale_factor) if scale_factor != 1.0 else img1
        b, _, h, w = img0_.shape
        check_network_size(h, w, self.config.corr_levels)
        coord_B2HW = coords_grid(b, h // 8, w // 8, img0.device)

        fmap0, fmap1 = torch.split(self.feat_encoder(torch.cat([img0_, img1_], 0)), [b, b], 0)  # (B, D, H/8, W/8)
        corr_fn = BidirectionalCorrelation(fmap0, fmap1, self.config.corr_levels, self.config.corr_radius)
        f0_1, f0_2, f0_3, f0_4 = self.encoder(img0_)  # 1/2, 1/4, 1/8, 1/16
        f1_1, f1_2, f1_3, f1_4 = self.encoder(img1_)

        flow0, flow1, ft = self.decoder4(f0_4, f1_4, embt)  # 1/8
        flow0, flow1, ft = self._refine(self.update4, corr_fn, coord_B2HW, flow0, flow1, ft, embt, 1)
        flow0, flow1, ft = self.decoder3(ft, f0_3, f1_3, flow0, flow1)  # 1/4
        flow0, flow1, ft = self._refine(self.update3, corr_fn, coord_B2HW, flow0, flow1, ft, embt, 2)
        flow0, flow1, ft = self.decoder2(ft, f0_2, f1_2, flow0, flow1)  # 1/2
        flow0, flow1, ft = self._refine(self.update2, corr_fn, coord_B2HW, flow0, flow1, ft, embt, 4)
        flows0, flows1, mask, img_res = self.decoder1(ft, f0_1, f1_1, flow0, flow1)  # full (network) resolution

        if scale_factor != 1.0:
            inv = 1.0 / scale_factor
            flows0, flows1 = resize(flows0, inv) * inv, resize(flows1, inv) * inv
            mask, img_res = resize(mask, inv), resize(img_res, inv)
        imgt = multi_flow_combine(self.comb_block, img0, img1, flows0, flows1, mask, img_res, mean_B111)
        return torch.clamp(imgt, 0, 1)
