"""Tiny stand-ins for the two DWPose ONNX files, for tests: same input/output names, shapes and layouts as the public
yolox_l.onnx and dw-ll_ucoco_384.onnx, deterministic weights, exported with torch.onnx (TorchScript exporter).

- `TinyYOLOX`: "images" (1, 3, H, W) raw 0–255 → "output" (1, N, 5 + C) per anchor over strides 8/16/32 (N = 8400 at
  640×640): grid offsets dx, dy, log-size lw, lh, then objectness and class scores already through the sigmoid (what
  dwpose.yolox_decode expects). Chosen anchors report chosen boxes; their objectness is gated by the mean brightness of
  the input (Linear on the pooled channels), so a dark frame holds no one.
- `TinySimCC`: "input" (1, 3, h, w) normalised → "simcc_x" (1, K, 2w), "simcc_y" (1, K, 2h) logits (split ratio 2).
  Each keypoint either peaks at a chosen bin (its bias) or follows the brightest column / row of the crop (the crop's
  mean profile, so where it lands checks the affine crop itself).
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from uvc_data.annotators.dwpose import YOLOX_STRIDES, dwpose_paths


def yolox_anchor(box: tuple[float, float, float, float], size: tuple[int, int], stride: int) -> tuple[int, list[float]]:
    """The anchor index and raw (dx, dy, lw, lh) that make YOLOX decode to the xyxy `box` (input pixels), on the
    `stride` grid of an (h, w) = `size` input: cx = (gx + dx)·s, w = exp(lw)·s (inverse of dwpose.yolox_decode)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    gx, gy = int(cx // stride), int(cy // stride)
    offset = 0
    for s in YOLOX_STRIDES:
        if s == stride:
            break
        offset += (size[0] // s) * (size[1] // s)
    index = offset + gy * (size[1] // stride) + gx
    w, h = box[2] - box[0], box[3] - box[1]
    raw = [cx / stride - gx, cy / stride - gy, math.log(w / stride), math.log(h / stride)]
    return index, raw


class TinyYOLOX(nn.Module):
    """YOLOX-shaped detector reporting fixed boxes (class 0) when the input is bright enough."""

    def __init__(self, boxes: list[tuple[tuple[float, float, float, float], float]], size: tuple[int, int] = (640, 640),
                 classes: int = 80, stride: int = 32, bright: float = 40.0) -> None:
        super().__init__()
        n = sum((size[0] // s) * (size[1] // s) for s in YOLOX_STRIDES)
        reg = torch.zeros(1, n, 4)
        peak = torch.zeros(1, n, 1)  # objectness of each anchor when the gate is open
        cls = torch.zeros(1, n, classes)
        for box, score in boxes:
            i, raw = yolox_anchor(box, size, stride)
            reg[0, i] = torch.tensor(raw)
            peak[0, i, 0] = score
            cls[0, i, 0] = 1.0
        self.register_buffer("reg", reg)
        self.register_buffer("peak", peak)
        self.register_buffer("cls", cls)
        self.gate = nn.Linear(3, 1)  # pooled RGB → brightness logit: mean(RGB) − bright
        with torch.no_grad():
            self.gate.weight.fill_(1 / 3)
            self.gate.bias.fill_(-bright)

    def forward(self, images: torch.Tensor) -> torch.Tensor:  # (1, 3, H, W) → (1, N, 5 + C)
        g = torch.sigmoid(self.gate(images.mean(dim=(2, 3))))  # (1, 1)
        return torch.cat([self.reg, self.peak * g[:, :, None], self.cls], -1)


class TinySimCC(nn.Module):
    """SimCC-shaped whole-body head: keypoint k peaks at bins (bx[k], by[k]) with logit scores[k], or, where follow[k],
    at twice the brightest column / row of its input crop (logit = profile + 3, > 0 on any normalised input)."""

    def __init__(self, bins: np.ndarray, scores: np.ndarray, follow: np.ndarray, input_wh: tuple[int, int] = (288, 384),
                 split: int = 2) -> None:
        super().__init__()
        k = len(bins)
        bias_x = torch.zeros(k, input_wh[0] * split)
        bias_y = torch.zeros(k, input_wh[1] * split)
        for i in range(k):
            if follow[i]:
                bias_x[i], bias_y[i] = 3.0, 3.0
            else:
                bias_x[i, int(bins[i, 0])] = float(scores[i])
                bias_y[i, int(bins[i, 1])] = float(scores[i])
        self.split = split
        self.register_buffer("bias_x", bias_x[None])  # (1, K, 2w)
        self.register_buffer("bias_y", bias_y[None])  # (1, K, 2h)
        self.register_buffer("gain", torch.tensor(np.asarray(follow, np.float32))[None, :, None])  # (1, K, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # (1, 3, h, w)
        cols = x.mean(dim=(1, 2)).repeat_interleave(self.split, -1)  # (1, 2w)
        rows = x.mean(dim=(1, 3)).repeat_interleave(self.split, -1)  # (1, 2h)
        return self.bias_x + self.gain * cols[:, None], self.bias_y + self.gain * rows[:, None]


def export_onnx(module: nn.Module, example: torch.Tensor, path: Path, input_name: str, output_names: list[str],
                dynamic_hw: bool = False) -> Path:
    """`module` → ONNX at `path`, fixed shapes as the released DWPose files have (or height/width left dynamic)."""
    module.eval()
    dynamic = {input_name: {2: "height", 3: "width"}} if dynamic_hw else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(module, (example,), str(path), dynamo=False, input_names=[input_name],
                          output_names=output_names, opset_version=17, dynamic_axes=dynamic)
    return path


def write_tiny_dwpose(folder: Path, det: TinyYOLOX, pose: TinySimCC, det_hw: tuple[int, int] = (640, 640),
                      pose_hw: tuple[int, int] = (384, 288), dynamic_hw: bool = False) -> tuple[Path, Path]:
    """Export both models into `folder` under the file names dwpose_paths looks for; (detector, pose) paths."""
    det_path, pose_path = (Path(p) for p in dwpose_paths(str(folder), "", ""))
    folder.mkdir(parents=True, exist_ok=True)
    export_onnx(det, torch.zeros(1, 3, *det_hw), det_path, "images", ["output"], dynamic_hw)
    export_onnx(pose, torch.zeros(1, 3, *pose_hw), pose_path, "input", ["simcc_x", "simcc_y"], dynamic_hw)
    return det_path, pose_path
