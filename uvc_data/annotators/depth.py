"""Depth control video: Depth Anything V2 through transformers (AutoModelForDepthEstimation + AutoImageProcessor
from a local folder), each frame's prediction min-max normalised to 0–255 and repeated to 3 channels (VACE's
DepthV2 annotator convention: near = bright). There is no offline depth model: without weights the annotator reports
the condition unavailable and depth tasks are rejected."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from uvc_data.annotators.base import Annotator, AnnotatorConfig
from uvc_data.annotators.registry import ANNOTATORS
from uvc_data.annotators.weights import auto_dtype, pretrained_dir, resolve_device
from uvc_data.errors import ConfigError
from uvc_data.sample import Sample

HOW = ("download a Depth Anything V2 transformers checkpoint (e.g. depth-anything/Depth-Anything-V2-Large-hf) to a "
       "folder and set depth.weights=<folder>")


def minmax_to_uint8(depth_hw: np.ndarray) -> np.ndarray:
    """One frame's depth (H, W) float → (H, W, 3) uint8 by min-max normalisation (constant frames → 0)."""
    d = depth_hw.astype(np.float32) - float(depth_hw.min())
    top = float(d.max())
    d = d / top if top > 0 else d
    u8 = np.clip(d * 255.0, 0, 255).astype(np.uint8)
    return np.repeat(u8[..., None], 3, axis=-1)


@dataclass
class DepthConfig(AnnotatorConfig):
    backend: str = "depth_anything"
    weights: str = ""  # folder with config.json, weights and preprocessor_config.json
    device: str = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"  # auto: bfloat16 on CUDA, float32 on CPU
    batch_size: int = 8

    backends: ClassVar[tuple[str, ...]] = ("depth_anything",)

    def validate(self) -> None:
        super().validate()
        if self.batch_size < 1:
            raise ConfigError("batch_size", "must be ≥ 1")


class DepthAnything:
    def __init__(self, weights: str, device: str, dtype: str) -> None:
        folder = pretrained_dir(weights, "Depth Anything V2 (depth annotator)", HOW,
                                must_have=("config.json", "preprocessor_config.json"))
        import torch
        from transformers import AutoImageProcessor, AutoModelForDepthEstimation

        self.torch = torch
        self.device = resolve_device(device)
        self.dtype = auto_dtype(torch, dtype, self.device)
        self.processor = AutoImageProcessor.from_pretrained(str(folder))
        self.model = AutoModelForDepthEstimation.from_pretrained(str(folder), dtype=self.dtype).to(self.device).eval()

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """(B, H, W, 3) uint8 → (B, H, W) float32 relative depth at the frames' size."""
        torch = self.torch
        h, w = frames.shape[1:3]
        inputs = self.processor(images=list(frames), return_tensors="pt")
        pixel_values = inputs["pixel_values"].to(self.device, self.dtype)
        with torch.inference_mode():
            pred = self.model(pixel_values=pixel_values).predicted_depth  # (B, h', w')
            pred = torch.nn.functional.interpolate(pred[:, None].float(), size=(h, w), mode="bicubic",
                                                   align_corners=False)[:, 0]
        return pred.cpu().numpy()


@ANNOTATORS.register("depth", DepthConfig)
class DepthAnnotator(Annotator):
    name = "depth"
    condition = "depth"

    def __init__(self, config: DepthConfig) -> None:
        super().__init__(config)
        self.config: DepthConfig = config

    def load(self) -> DepthAnything:
        return DepthAnything(self.config.weights, self.config.device, self.config.dtype)

    def annotate(self, sample: Sample) -> np.ndarray:
        frames = sample.frames
        out = np.empty(frames.shape, np.uint8)
        bs = self.config.batch_size
        for s in range(0, len(frames), bs):
            for i, d in enumerate(self.model(frames[s : s + bs])):
                out[s + i] = minmax_to_uint8(d)
        return out
