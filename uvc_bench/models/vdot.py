"""`vdot`: our trainer's few-step generator (vdot_train), sampled as the official VDOT inference does
(UniPC, 4 steps, shift 16, no CFG by default).

Settings: path (the teacher architecture: a local diffusers dir with transformer/, text_encoder/, tokenizer/, vae/),
weights (the student: a checkpoint dir or run dir of `uvc train`, a .safetensors, or the official VDOT .pt), codec,
steps, shift, guidance, scheduler, negative_prompt, dtype, device.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from uvc_data.errors import ConfigError, MissingDependencyError
from uvc_data.imports import require
from uvc_bench.models.base import GenRequest, GenResult, VideoModel, check_video


@dataclass
class VDOTConfig:
    path: str = ""
    weights: str = ""  # "" = the weights in `path` (e.g. a teacher run at few steps)
    kind: Literal["vace", "t2v"] = "vace"
    codec: Literal["wan_vae", "pixel"] = "wan_vae"
    codec_patch: int = 2  # pixel codec only
    dtype: Literal["float32", "bfloat16", "float16"] = "bfloat16"
    text_max_length: int = 512
    steps: int = 4
    shift: float = 16.0
    guidance: float = 1.0
    scheduler: Literal["unipc", "euler"] = "unipc"
    negative_prompt: str = ""
    device: str = "auto"

    def validate(self) -> None:
        if not self.path:
            raise ConfigError("path", "give the model architecture dir (diffusers layout: transformer/, "
                              "text_encoder/, tokenizer/, vae/) with --set path=DIR")
        if self.steps < 1:
            raise ConfigError("steps", f"must be ≥ 1, got {self.steps}")


def _trainer_api():
    """vdot_train's sampling entry point and bundle loader, or an error naming what is missing."""
    try:
        from vdot_train.models.bundle import ModelConfig, load_bundle
        from vdot_train.models.codecs import CodecConfig
        from vdot_train.sampling import generate
    except ImportError as exc:
        raise MissingDependencyError(
            f"the `vdot` bench model needs vdot_train.sampling.generate and vdot_train.models.bundle.load_bundle "
            f"(the VDOT trainer package), which cannot be imported: {exc}. Install the full toolkit "
            "(scripts/install.sh) or use the `diffusers` model on an exported pipeline") from exc
    return ModelConfig, CodecConfig, load_bundle, generate


class VDOTModel(VideoModel):
    name = "vdot"
    Config = VDOTConfig

    def __init__(self, cfg: VDOTConfig):
        super().__init__(cfg)
        torch = require("torch")
        ModelConfig, CodecConfig, load_bundle, self._generate = _trainer_api()
        device = cfg.device if cfg.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        model_cfg = ModelConfig(kind=cfg.kind, path=cfg.path, text_max_length=cfg.text_max_length, dtype=cfg.dtype,
                                codec=CodecConfig(kind=cfg.codec, patch=cfg.codec_patch))
        self.bundle = load_bundle(model_cfg, cfg.weights or None, device)
        self.device = device

    def settings(self) -> dict[str, Any]:
        out = super().settings()
        out["device"] = self.device
        return out

    def _one(self, req: GenRequest) -> GenResult:
        t0 = time.perf_counter()
        # A case that raises is isolated and recorded by the harness (uvc_bench.generate).
        video = self._generate(self.bundle, [req.vcu], steps=self.cfg.steps, shift=self.cfg.shift,
                               guidance=self.cfg.guidance, seed=req.seed, scheduler=self.cfg.scheduler,
                               negative_prompt=self.cfg.negative_prompt)[0]
        problem = check_video(video, req)
        if problem:
            return GenResult(req.case_id, error=problem)
        return GenResult(req.case_id, video, seconds=time.perf_counter() - t0, fps=req.fps)  # Wan: 16 fps

    def generate(self, requests: list[GenRequest]) -> list[GenResult]:
        return [self._one(r) for r in requests]
