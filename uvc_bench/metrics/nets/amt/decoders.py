"""AMT's coarse-to-fine decoders (networks/blocks/ifrnet.py Init/IntermediateDecoder, multi_flow.py
MultiFlowDecoder) and the multi-flow merge. Each decoder doubles the resolution: flows F_t→0, F_t→1 and the
intermediate feature ft."""
from __future__ import annotations

import torch
import torch.nn as nn

from uvc_bench.metrics.nets.amt.ops import resize, warp
from uvc_bench.metrics.nets.amt.pyramid import ResBlock, convrelu


def _decoder_body(cin: int, width: int, skip: int, cout: int) -> nn.Sequential:
    """conv+PReLU to `width`, side-channel residual block, 4×4 stride-2 transposed conv (×2 resolution)."""
    up = nn.ConvTranspose2d(width, cout, 4, 2, 1, bias=True)
    return nn.Sequential(convrelu(cin, width), ResBlock(width, skip), up)


def _upsampled(flow: torch.Tensor) -> torch.Tensor:
    """A flow at twice the resolution: values × 2."""
    return 2.0 * resize(flow, 2.0)


class InitDecoder(nn.Module):
    """From the 1/16 features of both frames and t: first flows F_t→0, F_t→1 and ft at 1/8."""

    def __init__(self, in_ch: int, out_ch: int, skip_ch: int):
        super().__init__()
        self.convblock = _decoder_body(2 * in_ch + 1, 2 * in_ch, skip_ch, out_ch + 4)

    def forward(self, f0: torch.Tensor, f1: torch.Tensor, embt_B111: torch.Tensor):
        h, w = f0.shape[2:]
        out = self.convblock(torch.cat([f0, f1, embt_B111.repeat(1, 1, h, w)], 1))
        flow0, flow1 = torch.chunk(out[:, :4], 2, 1)
        return flow0, flow1, out[:, 4:]


class IntermediateDecoder(nn.Module):
    """Warps both frames' features with the current flows, refines: residual flows added to the ×2-upsampled ones."""

    def __init__(self, in_ch: int, out_ch: int, skip_ch: int):
        super().__init__()
        self.convblock = _decoder_body(3 * in_ch + 4, 3 * in_ch, skip_ch, out_ch + 4)

    def forward(self, ft: torch.Tensor, f0: torch.Tensor, f1: torch.Tensor, flow0: torch.Tensor, flow1: torch.Tensor):
        out = self.convblock(torch.cat([ft, warp(f0, flow0), warp(f1, flow1), flow0, flow1], 1))
        d0, d1 = torch.chunk(out[:, :4], 2, 1)
        return d0 + _upsampled(flow0), d1 + _upsampled(flow1), out[:, 4:]


class MultiFlowDecoder(nn.Module):
    """The last decoder (1/2 → full resolution): `num_flows` candidate flow pairs, blend masks and image residuals."""

    def __init__(self, in_ch: int, skip_ch: int, num_flows: int):
        super().__init__()
        self.num_flows = num_flows
        self.convblock = _decoder_body(3 * in_ch + 4, 3 * in_ch, skip_ch, 8 * num_flows)

    def forward(self, ft: torch.Tensor, f0: torch.Tensor, f1: torch.Tensor, flow0: torch.Tensor, flow1: torch.Tensor):
        """Returns flows0, flows1 (B, 2n, H, W), mask (B, n, H, W) in (0, 1), img_res (B, 3n, H, W)."""
        n = self.num_flows
        out = self.convblock(torch.cat([ft, warp(f0, flow0), warp(f1, flow1), flow0, flow1], 1))
        d0, d1, mask, img_res = torch.split(out, [2 * n, 2 * n, n, 3 * n], 1)
        flows0 = d0 + _upsampled(flow0).repeat(1, n, 1, 1)
        flows1 = d1 + _upsampled(flow1).repeat(1, n, 1, 1)
        return flows0, flows1, torch.sigmoid(mask), img_res


def multi_flow_combine(comb_block: nn.Module, img0: torch.Tensor, img1: torch.Tensor, flows0: torch.Tensor,
                       flows1: torch.Tensor, mask: torch.Tensor, img_res: torch.Tensor,
                       mean_B111: torch.Tensor) -> torch.Tensor:
    """AMT's merge of n candidates: Î_k = m_k·warp(I_0, F^k_t→0) + (1 − m_k)·warp(I_1, F^k_t→1) + mean + r_k;
    I_t = mean_k Î_k + comb_block([Î_1 … Î_n]). img0/img1 are mean-subtracted (B, 3, H, W)."""
    b, c, h, w = flows0.shape
    n = c // 2
    flows0_K2HW = flows0.reshape(b, n, 2, h, w).reshape(-1, 2, h, w)  # K = B·n
    flows1_K2HW = flows1.reshape(b, n, 2, h, w).reshape(-1, 2, h, w)
    mask_K1HW = mask.reshape(b, n, 1, h, w).reshape(-1, 1, h, w)
    res_K3HW = img_res.reshape(b, n, 3, h, w).reshape(-1, 3, h, w)
    img0_K3HW = torch.stack([img0] * n, 1).reshape(-1, 3, h, w)
    img1_K3HW = torch.stack([img1] * n, 1).reshape(-1, 3, h, w)
    mean_K111 = torch.stack([mean_B111] * n, 1).reshape(-1, 1, 1, 1)
    warps_K3HW = (mask_K1HW * warp(img0_K3HW, flows0_K2HW) + (1 - mask_K1HW) * warp(img1_K3HW, flows1_K2HW)
                  + mean_K111 + res_K3HW)
    warps_Bn3HW = warps_K3HW.reshape(b, n, 3, h, w)
    return warps_Bn3HW.mean(1) + comb_block(warps_Bn3HW.view(b, -1, h, w))
