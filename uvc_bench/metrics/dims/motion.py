"""motion_smoothness: from the even-indexed frames interpolate the odd ones (t = 0.5); per video
(255 − mean |interpolated − real odd frame|) / 255. Reference backend: AMT-S (as VBench). Offline backend
"dis_interp_offline": flow-based interpolation with OpenCV DIS flow (Super SloMo's intermediate-flow approximation)."""
from __future__ import annotations

import importlib
from typing import Callable

import numpy as np
import torch

from uvc_bench.metrics.api import DimScore
from uvc_bench.metrics.flow import DISFlow, backward_warp
from uvc_bench.metrics.formulas import amt_scale, smoothness_from_mad
from uvc_bench.metrics.layout import resolve
from uvc_bench.metrics.preprocess import pad_replicate, to_nchw, unpad
from uvc_data.errors import BadInputError, MissingDependencyError

# even frames (K, H, W, 3) uint8 → the K−1 frames halfway between consecutive ones, float in [0, 255]
Interpolator = Callable[[np.ndarray], np.ndarray]

AMT_MODULES = ("vbench.third_party.amt.networks.AMT-S", "third_party.amt.networks.AMT-S", "networks.AMT-S")
AMT_S_PARAMS = {"corr_radius": 3, "corr_lvls": 4, "num_flows": 3}  # VBench's AMT-S.yaml


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


def import_amt_s():
    """The AMT-S network module (MCG-NKU/AMT networks/AMT-S.py; vendored by vbench as vbench.third_party.amt)."""
    errors = []
    for name in AMT_MODULES:
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            errors.append(f"{name}: {exc}")
    raise MissingDependencyError(
        "the AMT model code is not importable (needed for motion_smoothness, backend amt_s); tried "
        + "; ".join(errors)
        + ". Clone https://github.com/MCG-NKU/AMT and put its root on PYTHONPATH (so `networks.AMT-S` imports), "
        "or set backend.motion_smoothness = 'offline'"
    )


class AMTInterpolator:
    """AMT-S at t = ½ on padded [0, 1] frames, batched over frame pairs."""

    def __init__(self, model, device: str, batch_size: int):
        self.model, self.device, self.batch_size = model, device, batch_size

    @torch.no_grad()
    def __call__(self, even: np.ndarray) -> np.ndarray:
        x = to_nchw(even).float() / 255.0  # (K, 3, H, W)
        vram = torch.cuda.get_device_properties(self.device).total_memory if str(self.device).startswith("cuda") else None
        scale = amt_scale(x.shape[-2], x.shape[-1], vram)
        x, pads = pad_replicate(x, int(16 / scale))
        out = []
        for i in range(0, len(x) - 1, self.batch_size):
            a = x[i : i + self.batch_size + 1].to(self.device)  # pairs (a[j], a[j+1])
            embt = torch.full((len(a) - 1, 1, 1, 1), 0.5, device=self.device)
            pred = self.model(a[:-1], a[1:], embt, scale_factor=scale, eval=True)["imgt_pred"]
            out.append(unpad(pred, pads).cpu())
        return (torch.cat(out) * 255.0).permute(0, 2, 3, 1).numpy()


class AMTMotionSmoothness(MotionSmoothness):
    def __init__(self, model, device: str, batch_size: int):
        super().__init__(AMTInterpolator(model, device, batch_size), "amt_s")

    @classmethod
    def from_config(cls, cfg) -> "AMTMotionSmoothness":
        path = resolve(cfg.weights_dir, "amt_s")
        model = import_amt_s().Model(**AMT_S_PARAMS)
        ckpt = torch.load(str(path), map_location="cpu", weights_only=True)
        model.load_state_dict(ckpt["state_dict"] if "state_dict" in ckpt else ckpt)
        return cls(model.to(cfg.device).eval(), cfg.device, cfg.batch_size)
