"""VACE context from a batch of VCUs (method.md, "Video Condition Unit", latent space).

context = [E(F·(1−M)); E(F·M); fold(M)]: inactive and reactive frames each encoded by the codec (C + C channels), the
mask folded from stride_h×stride_w pixel blocks into channels and resampled in time to the latent frame count
(nearest), so Cc = 2·C + stride_h·stride_w (96 for the Wan VAE). Each reference image becomes one latent frame
prepended in time (its reactive half and mask are zeros); `drop_reference_frames` removes them after sampling.
Reference order: r1..rl as VCU.context() lays them out (diffusers' WanVACEPipeline prepends them in reverse order).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from uvc_data.errors import BadInputError
from uvc_data.vcu import VCU
from vdot_train.models.codecs import LatentCodec


def fold_mask(masks_BTHW: torch.Tensor, stride: tuple[int, int, int], latent_frames: int) -> torch.Tensor:
    """Masks [B, T, H, W] → [B, sh·sw, T', H/sh, W/sw]: each sh×sw pixel block becomes channels; time resampled."""
    b, t, h, w = masks_BTHW.shape
    _, sh, sw = stride
    if h % sh or w % sw:
        raise BadInputError(f"frame size {h}×{w} is not divisible by the codec stride {sh}×{sw}")
    m = masks_BTHW.reshape(b, t, h // sh, sh, w // sw, sw).permute(0, 3, 5, 1, 2, 4)  # [B, sh, sw, T, h, w]
    m = m.reshape(b, sh * sw, t, h // sh, w // sw)
    return F.interpolate(m, size=(latent_frames, h // sh, w // sw), mode="nearest-exact")


def _video_BCTHW(frames_THWC: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(frames_THWC)).permute(3, 0, 1, 2)


def latent_shape(codec: LatentCodec, vcu: VCU) -> tuple[int, int, int, int]:
    """(C, l + T', H', W') of the latents generated for `vcu` (reference frames included)."""
    t, h, w = vcu.frames.shape[:3]
    return (codec.channels, len(vcu.refs) + codec.latent_frames(t), h // codec.stride[1], w // codec.stride[2])


def check_batchable(vcus: Sequence[VCU]) -> None:
    if not vcus:
        raise BadInputError("an empty batch of VCUs")
    first = vcus[0]
    for v in vcus[1:]:
        if v.frames.shape != first.frames.shape or len(v.refs) != len(first.refs):
            raise BadInputError(
                f"VCUs in one batch must share frame shape and reference count: {first.frames.shape}/"
                f"{len(first.refs)} refs vs {v.frames.shape}/{len(v.refs)} refs; use batch size 1 or bucket them")


@torch.no_grad()
def build_context(codec: LatentCodec, vcus: Sequence[VCU], device: torch.device | str = "cpu") -> torch.Tensor:
    """[B, 2C + sh·sw, l + T', H', W'] VACE context for a batch of VCUs of the same shape."""
    check_batchable(vcus)
    # as the official VACE code: the frames are split with the mask binarised at 0.5 (`vace_encode_frames`), the
    # mask channels fold the mask as given, continuous in [0, 1] (`vace_encode_masks`)
    masks = torch.from_numpy(np.stack([v.masks.astype(np.float32) for v in vcus])).to(device)  # [B, T, H, W]
    frames = torch.stack([_video_BCTHW(v.frames) for v in vcus]).to(device)  # [B, 3, T, H, W]
    m = (masks > 0.5).to(frames.dtype)[:, None]
    inactive = codec.encode(frames * (1.0 - m))
    reactive = codec.encode(frames * m)
    mask_lat = fold_mask(masks, codec.stride, inactive.shape[2])
    ctx = torch.cat([inactive, reactive, mask_lat.to(inactive.dtype)], dim=1)
    n_refs = len(vcus[0].refs)
    if n_refs:
        ref_frames = []
        for j in range(n_refs):
            img = torch.stack([_video_BCTHW(v.refs[j][None]) for v in vcus]).to(device)  # [B, 3, 1, H, W]
            lat = codec.encode(img)
            ref_frames.append(torch.cat([lat, torch.zeros_like(lat), torch.zeros_like(mask_lat[:, :, :1])], dim=1))
        ctx = torch.cat([*ref_frames, ctx], dim=2)
    return ctx


@torch.no_grad()
def encode_target(codec: LatentCodec, clips_BTHWC: np.ndarray, vcus: Sequence[VCU],
                  device: torch.device | str = "cpu") -> torch.Tensor:
    """Real latents aligned with generated ones: reference latents prepended to the encoded clip, [B, C, l+T', H', W']."""
    video = torch.stack([_video_BCTHW(c) for c in clips_BTHWC]).to(device)
    lat = codec.encode(video)
    n_refs = len(vcus[0].refs)
    if n_refs:
        refs = [codec.encode(torch.stack([_video_BCTHW(v.refs[j][None]) for v in vcus]).to(device))
                for j in range(n_refs)]
        lat = torch.cat([*refs, lat], dim=2)
    return lat


def drop_reference_frames(latents_BCTHW: torch.Tensor, num_refs: int) -> torch.Tensor:
    return latents_BCTHW[:, :, num_refs:]
