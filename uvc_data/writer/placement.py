"""A stage given GPUs must run its models on them: checked once per worker, right after setup.

A model can end up on the CPU without an error — a CPU-only torch build, a worker whose CUDA_VISIBLE_DEVICES Ray
left empty, onnxruntime without its CUDA provider, device=cpu in the config — and a GPU build would then crawl on
CPUs while holding GPUs. `check_gpu_placement` fails the stage at setup instead, naming the model and the cause.
"""
from __future__ import annotations

import os

from uvc_data.errors import ConfigError
from uvc_data.steps.base import Step


def cuda_diagnosis() -> str:
    """Why torch in this worker cannot use CUDA (or that it can)."""
    try:
        import torch
    except ImportError:
        return "torch is not installed in this worker"
    if torch.version.cuda is None:
        return f"torch {torch.__version__} in this worker is a CPU-only build (install a CUDA build of torch)"
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) == "":
        return "CUDA_VISIBLE_DEVICES is empty in this worker: no GPU is visible to it (Ray sets it from the GPUs " \
               "the actor requested)"
    if not torch.cuda.is_available():
        return "torch.cuda.is_available() is False in this worker (no driver or no device)"
    return "CUDA is usable here: the model was put on the CPU by its configuration (device=cpu?)"


def check_gpu_placement(stage: str, num_gpus: float, steps: list[Step]) -> None:
    """Raise ConfigError (field stages.<stage>.num_gpus) when a model of a GPU stage is not on a CUDA device."""
    if num_gpus <= 0:
        return
    on_cpu = {what: device for step in steps for what, device in step.devices().items()
              if not device.startswith("cuda")}
    if not on_cpu:
        return
    models = "; ".join(f"{what} runs on {device}" for what, device in on_cpu.items())
    raise ConfigError(f"stages.{stage}.num_gpus",
                      f"stage {stage!r} was given num_gpus={num_gpus:g} but {models}. {cuda_diagnosis()}. Fix the "
                      f"worker's CUDA setup, or set stages.{stage}.num_gpus=0 to run this stage on CPUs")
