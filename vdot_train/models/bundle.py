"""ModelConfig and ModelBundle: the denoiser + text encoder + codec that the trainer, sampler and exporter share."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch

from uvc_data.errors import ConfigError
from vdot_train.models.codecs import CodecConfig, LatentCodec, build_codec
from vdot_train.models.denoiser import Denoiser
from vdot_train.models.text_encoder import TextEncoder

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass
class ModelConfig:
    """Where the teacher lives and how latents are made.

    path: a local diffusers dir (transformer/, text_encoder/, tokenizer/, [vae/]) of the teacher.
    init_tiny: when path does not exist yet, write a tiny model of `kind` there first (tiny_cpu recipe only).
    """

    kind: Literal["t2v", "vace"] = "vace"
    path: str = ""
    text_encoder_path: str = ""  # "" = path
    text_max_length: int = 512
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"  # weights dtype when loading (trainable: master)
    # the frozen teacher's weights dtype; "" = dtype. bfloat16 halves its memory and changes nothing it computes
    # under bf16 mixed precision (diffusers' fp32 modules — rope, time embedder, norms, modulation — stay fp32)
    teacher_dtype: Literal["", "float32", "bfloat16", "float16"] = ""
    # where the UMT5 text encoder runs: "auto" = the training device, "cpu" = host (saves ≈ 11 GB per GPU at XXL)
    text_encoder_device: Literal["auto", "cpu"] = "auto"
    codec: CodecConfig = field(default_factory=lambda: CodecConfig(kind="wan_vae"))
    init_tiny: bool = False
    tiny_layers: int = 4

    def validate(self) -> None:
        if not self.path:
            raise ConfigError("model.path", "set it to a local diffusers model dir (e.g. Wan2.1-VACE-14B-diffusers)")

    def materialise(self) -> None:
        """Create the tiny model dir when `init_tiny` asks for it and it is absent."""
        if not self.init_tiny or (Path(self.path) / "transformer" / "config.json").is_file():
            return
        from vdot_train.models.tiny import TinySpec, save_tiny_model_dir

        if self.codec.kind != "pixel":
            raise ConfigError("model.init_tiny", "tiny models are built for codec.kind=pixel only")
        p = self.codec.patch
        spec = TinySpec(in_channels=3 * p * p, mask_channels=p * p, num_layers=self.tiny_layers)
        save_tiny_model_dir(self.path, self.kind, spec, text_max_length=self.text_max_length)


@dataclass
class ModelBundle:
    denoiser: Denoiser
    text_encoder: TextEncoder
    codec: LatentCodec
    kind: str

    @property
    def device(self) -> torch.device:
        return next(self.denoiser.parameters()).device


def load_text_encoder(cfg: ModelConfig) -> TextEncoder:
    return TextEncoder.from_dir(cfg.text_encoder_path or cfg.path, cfg.text_max_length)


def load_denoiser(cfg: ModelConfig, path: str | None = None) -> Denoiser:
    return Denoiser.from_dir(path or cfg.path, cfg.kind, DTYPES[cfg.dtype])


def load_bundle(cfg: ModelConfig, weights: str | None = None, device: str | torch.device = "cpu",
                prefer_ema: bool = False) -> ModelBundle:
    """Teacher architecture from cfg.path; `weights` (a student .safetensors, a checkpoint or run dir — its EMA when
    `prefer_ema` and present —, a diffusers transformer dir or an official .pt) replaces its weights."""
    cfg.validate()
    cfg.materialise()
    from vdot_train.trainer.checkpoint import load_student_weights

    den = load_denoiser(cfg)
    if weights:
        load_student_weights(den, weights, prefer_ema=prefer_ema)
    te = load_text_encoder(cfg)
    codec = build_codec(cfg.codec, cfg.path)
    if hasattr(codec, "to"):
        codec.to(device)  # type: ignore[union-attr]
    return ModelBundle(den.to(device).eval(), te.to(device), codec, cfg.kind)
