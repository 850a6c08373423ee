"""Prompt constants shared by the trainer, the sampler and the bench adapters.

WAN_NEGATIVE_PROMPT is Wan2.1's standard negative prompt, the one the official VDOT training config
(`training/configs/self_forcing_bi_gan.yaml`, `negative_prompt`) uses for the real score's CFG and the official
inference uses for teacher sampling. "" (no negative prompt) stays possible wherever a negative prompt is a setting.
"""
from __future__ import annotations

WAN_NEGATIVE_PROMPT = (
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，JPEG压缩残留，"
    "丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，"
    "静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走"
)
