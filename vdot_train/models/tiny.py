"""Tiny models built from configs (tests, benchmarks, the tiny_cpu recipe): real diffusers/transformers classes, saved
with save_pretrained so they are loaded back through the same path as the real weights."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from vdot_train.models.denoiser import Kind


@dataclass
class TinySpec:
    """Sizes of a tiny Wan(-VACE) model. in_channels must equal the codec's latent channels."""

    in_channels: int = 12  # pixel codec, patch 2
    mask_channels: int = 4  # codec stride_h·stride_w
    heads: int = 2
    head_dim: int = 16
    ffn_dim: int = 64
    num_layers: int = 4
    text_dim: int = 32
    freq_dim: int = 32
    vace_layers: tuple[int, ...] = (0, 2)


def build_tiny_transformer(kind: Kind, spec: TinySpec = TinySpec(), seed: int = 0) -> torch.nn.Module:
    from diffusers import WanTransformer3DModel, WanVACETransformer3DModel

    torch.manual_seed(seed)
    common = dict(patch_size=(1, 2, 2), num_attention_heads=spec.heads, attention_head_dim=spec.head_dim,
                  in_channels=spec.in_channels, out_channels=spec.in_channels, text_dim=spec.text_dim,
                  freq_dim=spec.freq_dim, ffn_dim=spec.ffn_dim, num_layers=spec.num_layers, rope_max_seq_len=64)
    if kind == "vace":
        return WanVACETransformer3DModel(**common, vace_layers=list(spec.vace_layers),
                                         vace_in_channels=2 * spec.in_channels + spec.mask_channels)
    return WanTransformer3DModel(**common)


def build_tiny_vae(z_dim: int = 4, seed: int = 0) -> torch.nn.Module:
    """A tiny AutoencoderKLWan (stride 4×8×8) with identity latent normalisation."""
    from diffusers import AutoencoderKLWan

    torch.manual_seed(seed)
    return AutoencoderKLWan(base_dim=8, z_dim=z_dim, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                            temperal_downsample=[False, True, True], latents_mean=[0.0] * z_dim,
                            latents_std=[1.0] * z_dim)


def save_tiny_model_dir(path: str | Path, kind: Kind, spec: TinySpec = TinySpec(), seed: int = 0,
                        text_max_length: int = 16, with_vae: bool = False) -> Path:
    """Write a diffusers-layout dir: transformer/, text_encoder/, tokenizer/ (and vae/ when asked)."""
    from vdot_train.models.text_encoder import build_tiny_text_encoder

    root = Path(path)
    build_tiny_transformer(kind, spec, seed).save_pretrained(root / "transformer")
    te = build_tiny_text_encoder(spec.text_dim, text_max_length, seed)
    te.model.save_pretrained(root / "text_encoder")
    te.tokenizer.save_pretrained(root / "tokenizer")
    if with_vae:
        build_tiny_vae(spec.in_channels, seed).save_pretrained(root / "vae")
    return root
