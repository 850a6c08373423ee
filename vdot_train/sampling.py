"""Few-step (student) and many-step (teacher) sampling from VCUs with diffusers flow schedulers.

`generate(model_bundle, vcus, steps, shift, guidance, seed)` is what UVCBench calls. The model is fed t = 1000·σ_k of
the scheduler's (shifted) sigmas — official VDOT inference: UniPC, 4 steps, shift 16 → t ≈ [999.9, 979.5, 941.1, 841.9].
Guidance > 1 runs classifier-free guidance on the velocity with the negative prompt (default: Wan's standard negative
prompt, as the official teacher sampling; "" = none; the student uses guidance 1 and never reads it).
VCUs are generated one at a time (seed + index), so results do not depend on the batch composition.
"""
from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
import torch

from uvc_data.errors import BadInputError, ConfigError
from uvc_data.vcu import VCU, to_uint8
from uvc_data.prompts import WAN_NEGATIVE_PROMPT
from vdot_train.flow import cfg as apply_cfg, inference_base_sigmas
from vdot_train.models.bundle import ModelBundle
from vdot_train.models.vace_context import build_context, drop_reference_frames, latent_shape

SchedulerName = Literal["unipc", "euler"]


def make_scheduler(name: SchedulerName, shift: float):
    from diffusers import FlowMatchEulerDiscreteScheduler, UniPCMultistepScheduler

    if name == "unipc":
        return UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=shift,
                                       num_train_timesteps=1000)
    if name == "euler":
        return FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=shift)
    raise ConfigError("sampling.scheduler", f"{name!r} is not one of ['unipc', 'euler']")


def set_official_timesteps(scheduler, steps: int, device: torch.device | str = "cpu") -> None:
    """Wan/VDOT base sigmas `flow.inference_base_sigmas(K)`, shifted by the scheduler: the model is then fed
    `flow.inference_timesteps(K, shift)`, which are the labels of `flow.student_schedule("consistent")`."""
    scheduler.set_timesteps(sigmas=inference_base_sigmas(steps).numpy(), device=device)


def model_timesteps(scheduler) -> torch.Tensor:
    """t = 1000·σ for each step of a scheduler after set_timesteps (float, [K])."""
    return scheduler.sigmas[: len(scheduler.timesteps)].float() * 1000.0


@torch.no_grad()
def sample_latents(bundle: ModelBundle, vcu: VCU, steps: int, shift: float, guidance: float, seed: int,
                   scheduler: SchedulerName = "unipc",
                   negative_prompt: str = WAN_NEGATIVE_PROMPT) -> torch.Tensor:
    """Denoise one VCU; returns latents [1, C, l+T', H', W'] (reference frames still in)."""
    device = bundle.device
    dtype = next(bundle.denoiser.parameters()).dtype
    if bundle.kind == "t2v" and vcu.task != "t2v":
        raise BadInputError(f"a T2V model cannot run task {vcu.task!r}: load a VACE model (model.kind=vace)")
    text = bundle.text_encoder.encode([vcu.prompt]).to(device, dtype)
    neg = bundle.text_encoder.encode([negative_prompt]).to(device, dtype) if guidance != 1.0 else None
    ctx = build_context(bundle.codec, [vcu], device).to(dtype) if bundle.kind == "vace" else None
    g = torch.Generator("cpu").manual_seed(seed)
    x = torch.randn((1, *latent_shape(bundle.codec, vcu)), generator=g).to(device, torch.float32)
    sched = make_scheduler(scheduler, shift)
    set_official_timesteps(sched, steps, device)
    for t_sched, t_model in zip(sched.timesteps, model_timesteps(sched)):
        tt = t_model.reshape(1).to(device)
        v = bundle.denoiser(x.to(dtype), tt, text, ctx).velocity.float()
        if neg is not None:
            v = apply_cfg(bundle.denoiser(x.to(dtype), tt, neg, ctx).velocity.float(), v, guidance)
        x = sched.step(v, t_sched, x, return_dict=False)[0]
    return x


def generate(model_bundle: ModelBundle, vcus: Sequence[VCU], steps: int = 4, shift: float = 16.0,
             guidance: float = 1.0, seed: int = 0, scheduler: SchedulerName = "unipc",
             negative_prompt: str = WAN_NEGATIVE_PROMPT) -> list[np.ndarray]:
    """Videos (T, H, W, 3) uint8 for each VCU; reference frames are dropped before decoding."""
    if steps < 1:
        raise ConfigError("steps", "must be ≥ 1 (4 for the VDOT student, 50 for the teacher)")
    out = []
    for i, vcu in enumerate(vcus):
        lat = sample_latents(model_bundle, vcu, steps, shift, guidance, seed + i, scheduler, negative_prompt)
        video_BCTHW = model_bundle.codec.decode(drop_reference_frames(lat, len(vcu.refs)))
        frames = video_BCTHW[0].permute(1, 2, 3, 0).cpu().numpy()[: vcu.num_frames]
        out.append(to_uint8(frames))
    return out
