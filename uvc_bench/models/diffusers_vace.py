"""`diffusers`: any local WanVACEPipeline directory (VACE-Wan 1.3B / 14B, or a converted VDOT generator).

Settings: path, steps, guidance, shift (None = the saved scheduler's), scheduler ("saved" | "unipc" | "euler"),
negative_prompt, conditioning_scale, dtype, device. Seed, size and frames come from each request.
The VCU is handed over as VACE expects: `video` = context frames (gray where generated), `mask` = white where
generated, `reference_images` = the references on white. One video per pipeline call (the pipeline's own limit).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from uvc_data.errors import ConfigError, MissingWeightsError
from uvc_data.imports import require
from uvc_data.vcu import to_uint8
from uvc_bench.models.base import GenRequest, GenResult, VideoModel, check_video

HOW = ("download a diffusers WanVACEPipeline (e.g. `huggingface-cli download Wan-AI/Wan2.1-VACE-1.3B-diffusers "
       "--local-dir DIR`) on a machine with internet, copy it here and pass --set path=DIR")


@dataclass
class DiffusersConfig:
    path: str = ""
    steps: int = 50
    guidance: float = 5.0
    shift: float | None = None
    scheduler: Literal["saved", "unipc", "euler"] = "saved"
    negative_prompt: str = ""
    conditioning_scale: float = 1.0
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    device: str = "auto"  # "auto" = cuda when available

    def validate(self) -> None:
        if not self.path:
            raise ConfigError("path", "give the WanVACEPipeline folder (--set path=DIR)")
        if self.steps < 1:
            raise ConfigError("steps", f"must be ≥ 1, got {self.steps}")
        if self.shift is not None and self.shift <= 0:
            raise ConfigError("shift", f"must be > 0, got {self.shift}")


def _pil_frames(video_THWC: np.ndarray) -> list:
    from PIL import Image

    return [Image.fromarray(f) for f in video_THWC]


def _make_scheduler(pipe, name: str, shift: float | None):
    from diffusers import FlowMatchEulerDiscreteScheduler, UniPCMultistepScheduler

    config = dict(pipe.scheduler.config)
    if name == "saved":
        cls = type(pipe.scheduler)
    else:
        cls = UniPCMultistepScheduler if name == "unipc" else FlowMatchEulerDiscreteScheduler
    if cls is UniPCMultistepScheduler:
        extra: dict[str, Any] = {"prediction_type": "flow_prediction", "use_flow_sigmas": True}
        if shift is not None:
            extra["flow_shift"] = shift
        return cls.from_config(config, **extra)
    if cls is FlowMatchEulerDiscreteScheduler:
        return cls.from_config(config, **({"shift": shift} if shift is not None else {}))
    if shift is not None:
        raise ConfigError("shift", f"the saved scheduler {cls.__name__} has no flow shift; set scheduler=unipc")
    return pipe.scheduler


def scheduler_shift(scheduler) -> float | None:
    cfg = scheduler.config
    for k in ("flow_shift", "shift"):
        if k in cfg and cfg[k] is not None:
            return float(cfg[k])
    return None


class DiffusersVACEModel(VideoModel):
    name = "diffusers"
    Config = DiffusersConfig

    def __init__(self, cfg: DiffusersConfig):
        super().__init__(cfg)
        torch = require("torch")
        diffusers = require("diffusers", purpose="the `diffusers` bench model")
        require("ftfy", purpose="diffusers' Wan prompt cleaning")
        root = Path(cfg.path).expanduser()
        if not (root / "model_index.json").is_file():
            raise MissingWeightsError("the WanVACEPipeline of the `diffusers` model", [str(root / "model_index.json")],
                                      HOW)
        device = cfg.device if cfg.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        dtype_name = cfg.dtype if cfg.dtype != "auto" else ("bfloat16" if device.startswith("cuda") else "float32")
        pipe = diffusers.WanVACEPipeline.from_pretrained(root, dtype=getattr(torch, dtype_name))
        pipe.scheduler = _make_scheduler(pipe, cfg.scheduler, cfg.shift)
        pipe.set_progress_bar_config(disable=True)
        self.pipe = pipe.to(device)
        self.device = device
        self.dtype = dtype_name
        self.temporal_stride = int(getattr(pipe, "vae_scale_factor_temporal", 4))

    def settings(self) -> dict[str, Any]:
        out = super().settings()
        out.update(steps=self.cfg.steps, guidance=self.cfg.guidance, shift=scheduler_shift(self.pipe.scheduler),
                   scheduler_class=type(self.pipe.scheduler).__name__, dtype=self.dtype, device=self.device)
        return out

    def _one(self, req: GenRequest) -> GenResult:
        import torch

        t0 = time.perf_counter()
        if (req.num_frames - 1) % self.temporal_stride:
            return GenResult(req.case_id, error=f"num_frames {req.num_frames} must be {self.temporal_stride}·k + 1 "
                                                "for Wan (e.g. 81); change num_frames")
        vcu = req.vcu
        video = _pil_frames(to_uint8(vcu.frames))
        mask = _pil_frames(np.repeat(np.round(vcu.masks * 255).astype(np.uint8)[..., None], 3, -1))  # continuous, as VACE
        refs = _pil_frames(np.stack([to_uint8(r) for r in vcu.refs])) if vcu.refs else None
        gen = torch.Generator("cpu").manual_seed(req.seed)
        # A case that raises (e.g. a size the pipeline rejects) is isolated and recorded by the harness.
        out = self.pipe(prompt=vcu.prompt, negative_prompt=self.cfg.negative_prompt, video=video, mask=mask,
                        reference_images=refs, conditioning_scale=self.cfg.conditioning_scale,
                        height=req.size[0], width=req.size[1], num_frames=req.num_frames,
                        num_inference_steps=self.cfg.steps, guidance_scale=self.cfg.guidance, generator=gen,
                        output_type="np")
        frames = np.asarray(out.frames[0], dtype=np.float32)  # (T, H, W, 3) in [0, 1]
        result = np.clip(np.round(frames * 255.0), 0, 255).astype(np.uint8)
        problem = check_video(result, req)
        if problem:
            return GenResult(req.case_id, error=problem)
        return GenResult(req.case_id, result, seconds=time.perf_counter() - t0, fps=req.fps)  # Wan: 16 fps

    def generate(self, requests: list[GenRequest]) -> list[GenResult]:
        return [self._one(r) for r in requests]
