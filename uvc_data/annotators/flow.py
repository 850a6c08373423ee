"""Optical flow control video: offline OpenCV DIS, production RAFT (native raft-things, uvc_data.nets.raft, 20
iterations), both rendered with the Middlebury colour wheel (flow_color.py). Flow between frames t and t+1 is shown on
frame t+1; frame 0 repeats the first flow so the control video keeps the clip's T frames. Signal: `flow_motion`
(mean |flow| / width per frame)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from uvc_data.annotators.base import Annotator, AnnotatorConfig
from uvc_data.annotators.flow_color import flow_to_color, motion_magnitude
from uvc_data.annotators.registry import ANNOTATORS
from uvc_data.annotators.weights import resolve_device, weights_file
from uvc_data.errors import ConfigError
from uvc_data.sample import Sample

DIS_PRESETS = {"ultrafast": 0, "fast": 1, "medium": 2}  # cv2.DISOPTICAL_FLOW_PRESET_*


@dataclass
class FlowConfig(AnnotatorConfig):
    backend: str = "dis"
    dis_preset: Literal["ultrafast", "fast", "medium"] = "medium"
    scale: float = 1.0  # DIS runs at this fraction of the working size; flow is resized back and rescaled
    raft_weights: str = ""  # raft-things.pth, or a .safetensors with its keys ('module.' prefix optional)
    raft_iterations: int = 20
    device: str = "auto"
    batch_size: int = 8  # frame pairs per RAFT forward
    max_radius: float = 0.0  # flow magnitude (pixels) shown fully saturated; 0 → per frame (VACE)

    backends: ClassVar[tuple[str, ...]] = ("dis", "raft")

    def validate(self) -> None:
        super().validate()
        if not 0.05 <= self.scale <= 1.0:
            raise ConfigError("scale", f"{self.scale} must be in [0.05, 1]")
        if self.raft_iterations < 1:
            raise ConfigError("raft_iterations", "must be ≥ 1 (RAFT uses 20)")
        if self.batch_size < 1:
            raise ConfigError("batch_size", "must be ≥ 1")
        if self.max_radius < 0:
            raise ConfigError("max_radius", "must be ≥ 0 (0 = normalise each frame)")


def dis_flow(frames: np.ndarray, preset: str = "medium", scale: float = 1.0) -> np.ndarray:
    """OpenCV DIS flow between consecutive frames: (T, H, W, 3) uint8 → (T−1, H, W, 2) float32 in pixels."""
    import cv2

    t, h, w = frames.shape[:3]
    dis = cv2.DISOpticalFlow_create(DIS_PRESETS[preset])
    sw, sh = max(8, round(w * scale)), max(8, round(h * scale))
    grays = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    if (sw, sh) != (w, h):
        grays = [cv2.resize(g, (sw, sh), interpolation=cv2.INTER_AREA) for g in grays]
    out = np.empty((max(t - 1, 0), h, w, 2), np.float32)
    for i in range(t - 1):
        f = dis.calc(grays[i], grays[i + 1], None)
        if (sw, sh) != (w, h):
            f = cv2.resize(f, (w, h), interpolation=cv2.INTER_LINEAR)
            f[..., 0] *= w / sw
            f[..., 1] *= h / sh
        out[i] = f
    return out


class RaftFlow:
    """RAFT raft-things (uvc_data.nets.raft) from a local checkpoint; `iterations` flow updates (RAFT / VACE: 20).
    Frames are padded bottom/right to a multiple of 8 (replicate) and the flow cropped back."""

    def __init__(self, weights: str, iterations: int, device: str, batch_size: int) -> None:
        from uvc_data.nets.raft import load_raft

        how = ("download raft-things.pth (RAFT's models.zip, or ali-vilab/VACE-Annotators flow/raft-things.pth) and "
               "set flow.raft_weights=<file> (.pth or .safetensors with the same keys); or use flow.backend=dis")
        path = weights_file(weights, "RAFT raft-things optical flow checkpoint", how)
        self.device = resolve_device(device)
        self.model = load_raft(path, self.device, how=how)
        self.iterations, self.batch_size = iterations, batch_size

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        import torch

        t, h, w = frames.shape[:3]
        ph, pw = (-h) % 8, (-w) % 8  # RAFT needs sizes divisible by 8
        x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()  # (T, 3, H, W) in [0, 255]
        if ph or pw:
            x = torch.nn.functional.pad(x, (0, pw, 0, ph), mode="replicate")
        flows = []
        with torch.inference_mode():
            for s in range(0, t - 1, self.batch_size):
                e = min(s + self.batch_size, t - 1)
                a, b = x[s:e].to(self.device), x[s + 1 : e + 1].to(self.device)
                _, pred = self.model(a, b, iters=self.iterations, test_mode=True)  # (B, 2, H', W')
                flows.append(pred[:, :, :h, :w].permute(0, 2, 3, 1).float().cpu().numpy())
        return np.concatenate(flows) if flows else np.zeros((0, h, w, 2), np.float32)


@ANNOTATORS.register("flow", FlowConfig)
class FlowAnnotator(Annotator):
    name = "flow"
    condition = "flow"

    def __init__(self, config: FlowConfig) -> None:
        super().__init__(config)
        self.config: FlowConfig = config

    def load(self) -> Any:
        c = self.config
        if c.backend == "raft":
            return RaftFlow(c.raft_weights, c.raft_iterations, c.device, c.batch_size)
        return lambda frames: dis_flow(frames, c.dis_preset, c.scale)

    def annotate(self, sample: Sample) -> np.ndarray:
        frames = sample.frames
        t, h, w = frames.shape[:3]
        flows = self.model(frames) if t > 1 else np.zeros((1, h, w, 2), np.float32)  # (T−1, H, W, 2)
        sample.signals["flow_motion"] = motion_magnitude(flows, w)
        flows = np.concatenate([flows[:1], flows])[:t]  # frame 0 shows the first flow
        return flow_to_color(flows, self.config.max_radius or None)
