"""Networks built on the meta device: the architecture from config.json, no weight allocated anywhere.

Parameters are meta tensors; buffers (Wan's rotary tables, which no checkpoint holds) are built for real, as
diffusers' low-memory loading does (accelerate's `init_empty_weights(include_buffers=False)`). `materialise` then
gives each parameter its storage — after `fully_shard`, only this rank's shard.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import torch
from torch import nn

from vdot_train.models.denoiser import Denoiser, Kind, transformer_class_and_dir


@contextmanager
def on_meta() -> Iterator[None]:
    """Parameters created inside land on the meta device; buffers are real (they hold computed tables)."""
    from accelerate import init_empty_weights

    with init_empty_weights(include_buffers=False):
        yield


def denoiser_on_meta(path: str, kind: Kind, dtype: torch.dtype = torch.float32) -> Denoiser:
    """The transformer of the diffusers dir `path` (config only; no weight file is read)."""
    model_cls, d = transformer_class_and_dir(path, kind)
    config = model_cls.load_config(d)
    with on_meta():
        transformer = model_cls.from_config(config)
    return Denoiser(cast_keeping_fp32(transformer, dtype))


def cast_keeping_fp32(model: nn.Module, dtype: torch.dtype) -> nn.Module:
    """`model.to(dtype)` except the modules diffusers keeps in float32 when it loads in low precision
    (`_keep_in_fp32_modules`: Wan's rope, time embedder, modulation tables and norms), as `from_pretrained` does."""
    keep = tuple(getattr(model, "_keep_in_fp32_modules", None) or ())
    if dtype == torch.float32:
        return model  # built in float32
    if not keep:
        return model.to(dtype)
    for name, sub in model.named_modules():
        parts = name.split(".")
        if any(k in parts for k in keep):
            continue
        for pname, p in list(sub.named_parameters(recurse=False)):
            full = f"{name}.{pname}" if name else pname
            if any(k in full.split(".") for k in keep):
                continue
            p.data = p.data.to(dtype)
    return model


def module_on_meta(factory: Callable[[], nn.Module]) -> nn.Module:
    with on_meta():
        return factory()


def is_meta(module: nn.Module) -> bool:
    return any(p.is_meta for p in module.parameters())
