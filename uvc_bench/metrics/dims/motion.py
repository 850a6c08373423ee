"""motion_smoothness: from the even-indexed frames interpolate the odd ones (t = 0.5); per video
(255 − mean |interpolated − real odd frame|) / 255. Reference backend: AMT-S as VBench runs it (our native pure-torch
network, uvc_bench.metrics.nets.amt, loading the official amt-s.pth strictly). Offline backend
"dis_interp_offline": flow-based interpolation with OpenCV DIS flow (Super SloMo's intermediate-flow approximation)."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from uvc_bench.metrics.api import DimScore
from uvc_bench.metrics.flow import DISFlow, backward_warp
from uvc_bench.metrics.formulas import amt_scale, smoothness_from_mad
from uvc_bench.metrics.layout import resolve
from uvc_bench.metrics.nets.amt import AMTSConfig, load_amt_s
from uvc_bench.metrics.preprocess import pad_replicate, to_nchw, unpad
from uvc_data.errors import BadInputError
from uvc_data.nets.raft.corr import corr_volume_bytes

# even frames (K, H, W, 3) uint8 → the K−1 frames halfway between consecutive ones, float in [0, 255]
Interpolator = Callable[[np.ndarray], np.ndarray]


def interpolation_smoothness(frames: np.ndarray, interpolate: Interpolator) -> float:
    """VBench MotionSmoothness.motion_score: interpolate odd frames from even ones, compare with the real odd frames.
    Interpolated frames are cast to uint8 by truncation, as VBench's tensor2img does."""
    even, odd = frames[0::2], frames[1::2]
    if len(even) < 2:
        raise BadInputError(f"motion_smoothness needs at least 3 frames, got {len(frames)}")
    mids = np.clip(interpolate(even), 0, 255).astype(np.uint8)  # (K−1, H, W, 3)
    n = len(mids)
    diffs = np.abs(mids.astype(np.int16) - odd[:n].astype(np.int16))  # cv2.absdiff
    mad = float(np.mean(diffs.reshape(n, -1).mean(axis=1)))
    return smoothness_from_mad(mad)


class MotionSmoothness:
    def __init__(self, interpolate: Interpolator, backend: str):
        self.interpolate, self.backend = interpolate, backend

    def score(self, frames: np.ndarray, fps: float) -> DimScore:
        return DimScore(interpolation_smoothness(frames, self.interpolate), backend=self.backend)


def dis_interpolate(even: np.ndarray, flow: DISFlow | None = None) -> np.ndarray:
    """Frames at t = ½ from bidirectional DIS flow: F_t→0 = −¼F_0→1 + ¼F_1→0, F_t→1 = ¼F_0→1 − ¼F_1→0
    (Super SloMo eq. 4 at t = ½), I_t = ½ warp(I_0, F_t→0) + ½ warp(I_1, F_t→1)."""
    flow = flow or DISFlow()
    out = []
    for i0, i1 in zip(even[:-1], even[1:]):
        f01, f10 = flow(i0, i1), flow(i1, i0)
        ft0, ft1 = 0.25 * (f10 - f01), 0.25 * (f01 - f10)
        out.append(0.5 * backward_warp(i0, ft0) + 0.5 * backward_warp(i1, ft1))
    return np.stack(out)


class FlowInterpMotionSmoothness(MotionSmoothness):
    def __init__(self):
        super().__init__(dis_interpolate, "dis_interp_offline")

    @classmethod
    def from_config(cls, cfg) -> "FlowInterpMotionSmoothness":
        return cls()


# correlation pyramids held by one forward: 2 pairs at 480×832; on CPU more pairs per forward only run slower
# (memory-bound: 1.7 CPU s per frame with 1 or 2 pairs, 2.9 s with 4; docs/nets/amt.md)
AMT_CORR_BUDGET_BYTES = 1024**3


def amt_pairs_per_forward(batch_size: int, height: int, width: int) -> int:
    """Frame pairs per AMT-S forward at network size H×W: `batch_size`, lowered so the pairs' correlation pyramids
    (RAFT's all-pairs pyramid at 1/8, held in both directions) fit AMT_CORR_BUDGET_BYTES (one 480×832 pair: ~0.4 GB);
    at least 1."""
    return max(1, min(batch_size, AMT_CORR_BUDGET_BYTES // (2 * corr_volume_bytes(height, width))))


class AMTInterpolator:
    """AMT-S at t = ½ as VBench's MotionSmoothness.motion_score runs it: frames /255, replicate-padded to a multiple
    of int(16 / scale) (formulas.amt_scale's CPU branch, the one VBench's launcher always takes), the frame halfway between
    each consecutive pair, unpadded; batched over frame pairs (VBench runs them one by one: same maths, float noise)."""

    def __init__(self, model, device: str, batch_size: int):
        self.model, self.device, self.batch_size = model, device, batch_size

    @torch.no_grad()
    def __call__(self, even: np.ndarray) -> np.ndarray:
        # (K, 3, H, W), contiguous NCHW as VBench's per-frame tensors reach the network (channels-last input picks
        # other convolution kernels: same maths, different float rounding)
        x = to_nchw(even).float().contiguous() / 255.0
        # the scale VBench's published numbers use: its launcher never takes the GPU-memory branch (formulas.amt_scale)
        scale = amt_scale(x.shape[-2], x.shape[-1], None)
        x, pads = pad_replicate(x, int(16 / scale))
        step = amt_pairs_per_forward(self.batch_size, int(x.shape[-2] * scale), int(x.shape[-1] * scale))
        out = []
        for i in range(0, len(x) - 1, step):
            a = x[i : i + step + 1].to(self.device)  # pairs (a[j], a[j+1])
            embt = torch.full((len(a) - 1, 1, 1, 1), 0.5, device=self.device)
            out.append(unpad(self.model(a[:-1], a[1:], embt, scale_factor=scale), pads).cpu())
        return (torch.cat(out) * 255.0).permute(0, 2, 3, 1).numpy()  # (K−1, H, W, 3)


class AMTMotionSmoothness(MotionSmoothness):
    def __init__(self, model, device: str, batch_size: int):
        super().__init__(AMTInterpolator(model, device, batch_size), "amt_s")

    @classmethod
    def from_config(cls, cfg) -> "AMTMotionSmoothness":
        """AMT-S with VBench's hyper-parameters (AMTSConfig defaults) from <weights_dir>/amt/amt-s.pth."""
        model = load_amt_s(resolve(cfg.weights_dir, "amt_s"), AMTSConfig(), cfg.device)
        return cls(model, cfg.device, cfg.batch_size)
