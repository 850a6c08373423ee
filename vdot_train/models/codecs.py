"""Latent codecs: pixels [-1, 1] (B, 3, T, H, W) ↔ normalised latents (B, C, T', H', W').

- PixelCodec: a fixed, exactly invertible space-to-depth reshaping (no weights), so CPU runs need no VAE.
- WanVAECodec: diffusers AutoencoderKLWan with its latents_mean / latents_std normalisation (as WanVACEPipeline).
Both expose `channels`, `stride` (t, h, w) and `latent_frames(num_frames)` so VACE context and sampling are codec-agnostic.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import torch

from uvc_data.errors import ConfigError
from vdot_train.models.loading import component_dir


class LatentCodec(Protocol):
    channels: int
    stride: tuple[int, int, int]  # (t, h, w) pixel → latent

    def encode(self, video_BCTHW: torch.Tensor) -> torch.Tensor: ...
    def decode(self, latents_BCTHW: torch.Tensor) -> torch.Tensor: ...
    def latent_frames(self, num_frames: int) -> int: ...


@dataclass
class CodecConfig:
    kind: Literal["pixel", "wan_vae"] = "pixel"
    patch: int = 2  # pixel codec: space-to-depth block (latent channels = 3·patch²)
    path: str = ""  # wan_vae: a diffusers pipeline dir (vae/ subfolder) or an AutoencoderKLWan dir; "" = model.path

    def validate(self) -> None:
        if self.kind == "pixel" and self.patch < 1:
            raise ConfigError("codec.patch", "must be ≥ 1")


class PixelCodec:
    """Space-to-depth: (B, 3, T, H, W) → (B, 3·p², T, H/p, W/p); decode is its exact inverse."""

    def __init__(self, patch: int = 2):
        self.patch = patch
        self.channels = 3 * patch * patch
        self.stride = (1, patch, patch)

    def latent_frames(self, num_frames: int) -> int:
        return num_frames

    def encode(self, video_BCTHW: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = video_BCTHW.shape
        p = self.patch
        if h % p or w % p:
            raise ConfigError("codec.patch", f"frame size {h}×{w} is not divisible by the pixel patch {p}")
        x = video_BCTHW.reshape(b, c, t, h // p, p, w // p, p)
        return x.permute(0, 1, 4, 6, 2, 3, 5).reshape(b, c * p * p, t, h // p, w // p)

    def decode(self, latents_BCTHW: torch.Tensor) -> torch.Tensor:
        b, cpp, t, hp, wp = latents_BCTHW.shape
        p = self.patch
        x = latents_BCTHW.reshape(b, cpp // (p * p), p, p, t, hp, wp)
        return x.permute(0, 1, 4, 5, 2, 6, 3).reshape(b, cpp // (p * p), t, hp * p, wp * p)


class WanVAECodec:
    """AutoencoderKLWan; latents normalised as (z − mean) / std per channel (WanVACEPipeline's convention)."""

    def __init__(self, vae: torch.nn.Module):
        self.vae = vae.eval().requires_grad_(False)
        cfg = vae.config
        self.channels = int(cfg.z_dim)
        self.stride = (2 ** sum(cfg.temperal_downsample), 2 ** len(cfg.temperal_downsample),
                       2 ** len(cfg.temperal_downsample))
        self._mean = torch.tensor(cfg.latents_mean, dtype=torch.float32).view(1, -1, 1, 1, 1)
        self._std = torch.tensor(cfg.latents_std, dtype=torch.float32).view(1, -1, 1, 1, 1)

    @classmethod
    def from_dir(cls, path: str | Path) -> "WanVAECodec":
        from diffusers import AutoencoderKLWan

        d = component_dir(path, "vae", "the Wan VAE (AutoencoderKLWan)",
                          "set `codec.path` to a diffusers Wan pipeline dir with a vae/ folder, or use codec.kind=pixel")
        return cls(AutoencoderKLWan.from_pretrained(d))

    def latent_frames(self, num_frames: int) -> int:
        return (num_frames - 1) // self.stride[0] + 1

    @torch.no_grad()
    def encode(self, video_BCTHW: torch.Tensor) -> torch.Tensor:
        dtype = next(self.vae.parameters()).dtype
        z = self.vae.encode(video_BCTHW.to(dtype)).latent_dist.mode().float()
        return (z - self._mean.to(z.device)) / self._std.to(z.device)

    @torch.no_grad()
    def decode(self, latents_BCTHW: torch.Tensor) -> torch.Tensor:
        dtype = next(self.vae.parameters()).dtype
        z = latents_BCTHW.float() * self._std.to(latents_BCTHW.device) + self._mean.to(latents_BCTHW.device)
        return self.vae.decode(z.to(dtype)).sample.float().clamp(-1, 1)

    def to(self, device: torch.device | str) -> "WanVAECodec":
        self.vae.to(device)
        return self


def build_codec(cfg: CodecConfig, model_path: str = "") -> LatentCodec:
    if cfg.kind == "pixel":
        return PixelCodec(cfg.patch)
    return WanVAECodec.from_dir(cfg.path or model_path)
