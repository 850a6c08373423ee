"""Captioners: a Captioner turns clips' frames into prompts, several clips per call. Backends: a sidecar file next to
the inputs, any OpenAI-compatible endpoint (vLLM serving Qwen-VL / InternVL), transformers vision-language models
from a local dir, and vLLM in-process."""
from uvc_data.captioners.base import (CaptionConfig, CaptionContext, Captioner, CaptionRequest, CaptionStep,
                                      build_captioner)

__all__ = ["CaptionConfig", "CaptionContext", "Captioner", "CaptionRequest", "CaptionStep", "build_captioner"]
