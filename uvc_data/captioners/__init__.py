"""Captioners: a Captioner turns a clip's frames into a prompt. Backends: a sidecar file next to the inputs, any
OpenAI-compatible endpoint (vLLM serving Qwen-VL / InternVL), and transformers vision-language models from a local dir."""
from uvc_data.captioners.base import CaptionConfig, CaptionContext, Captioner, CaptionStep, build_captioner

__all__ = ["CaptionConfig", "CaptionContext", "Captioner", "CaptionStep", "build_captioner"]
