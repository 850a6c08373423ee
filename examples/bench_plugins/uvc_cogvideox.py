"""A UVCBench plugin for a non-Wan diffusers model: CogVideoX (text-to-video, and video-to-video on the context
frames). docs/uvcbench_usage.md ("Any model") shows how to install it as a plugin or name it with --model.

    uvc bench run --suite suite/ --out out/ --model uvc_cogvideox:CogVideoXBenchModel --set path=/models/CogVideoX-2b

CogVideoX has no VACE-style conditioning: cases with a source video are run through CogVideoXVideoToVideoPipeline
on the VCU's context frames (`strength` of noise), others through CogVideoXPipeline from the prompt alone;
masks and reference images are not fed (the model has no input for them — fidelity metrics show it).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from uvc_data.errors import ConfigError, MissingWeightsError
from uvc_data.vcu import to_uint8
from uvc_bench.models.base import GenRequest, GenResult, VideoModel, check_video


@dataclass
class CogVideoXBenchConfig:
    path: str = ""  # a local diffusers CogVideoXPipeline folder (model_index.json)
    steps: int = 50
    guidance: float = 6.0
    strength: float = 0.8  # video-to-video: how much of the context video is re-noised
    negative_prompt: str = ""
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    device: str = "cpu"

    def validate(self) -> None:
        if not self.path:
            raise ConfigError("path", "give the CogVideoXPipeline folder (--set path=DIR)")
        if not 0.0 < self.strength <= 1.0:
            raise ConfigError("strength", f"must be in (0, 1], got {self.strength}")


class CogVideoXBenchModel(VideoModel):
    name = "cogvideox"
    Config = CogVideoXBenchConfig

    def __init__(self, cfg: CogVideoXBenchConfig):
        super().__init__(cfg)
        import torch
        from diffusers import CogVideoXPipeline, CogVideoXVideoToVideoPipeline

        root = Path(cfg.path).expanduser()
        if not (root / "model_index.json").is_file():
            raise MissingWeightsError("the CogVideoXPipeline of the `cogvideox` plugin", [str(root / "model_index.json")],
                                      "download it (e.g. `huggingface-cli download THUDM/CogVideoX-2b --local-dir DIR`)"
                                      " on a machine with internet and pass --set path=DIR")
        self.t2v = CogVideoXPipeline.from_pretrained(root, dtype=getattr(torch, cfg.dtype)).to(cfg.device)
        self.t2v.set_progress_bar_config(disable=True)
        self.v2v = CogVideoXVideoToVideoPipeline(**self.t2v.components)
        self.v2v.set_progress_bar_config(disable=True)

    def settings(self) -> dict:
        out = super().settings()
        out.update(steps=self.cfg.steps, guidance=self.cfg.guidance, shift=None)
        return out

    def _one(self, req: GenRequest) -> GenResult:
        import torch
        from PIL import Image

        t0 = time.perf_counter()
        vcu = req.vcu
        gen = torch.Generator("cpu").manual_seed(req.seed)
        common = dict(prompt=vcu.prompt, negative_prompt=self.cfg.negative_prompt or None, height=req.size[0],
                      width=req.size[1], num_inference_steps=self.cfg.steps, guidance_scale=self.cfg.guidance,
                      generator=gen, output_type="np")
        if np.any(vcu.frames != 0.0):
            video = [Image.fromarray(f) for f in to_uint8(vcu.frames)]
            out = self.v2v(video=video, strength=self.cfg.strength, **common)
        else:
            out = self.t2v(num_frames=req.num_frames, **common)
        frames = np.clip(np.round(np.asarray(out.frames[0], np.float32) * 255.0), 0, 255).astype(np.uint8)
        problem = check_video(frames, req)
        if problem:
            return GenResult(req.case_id, error=problem)
        return GenResult(req.case_id, frames, seconds=time.perf_counter() - t0)

    def generate(self, requests: list[GenRequest]) -> list[GenResult]:
        return [self._one(r) for r in requests]
