"""Pieces shared by the VDOT trainer and the teacher (flow-matching) trainer: precision, optimiser steps that skip
non-finite updates, EMA, RNG state, logging."""
from __future__ import annotations

import contextlib
import json
import logging
import math
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch
from torch import nn

log = logging.getLogger("vdot_train")


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def autocast(device: torch.device, mixed_precision: str):
    """bf16 autocast on CUDA when asked (and supported); a no-op elsewhere (CPU runs are float32)."""
    enabled = mixed_precision == "bf16" and device.type == "cuda" and torch.cuda.is_bf16_supported()
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)


@contextlib.contextmanager
def frozen(*modules: nn.Module | None) -> Iterator[None]:
    """Temporarily stop gradients into `modules` (restoring each parameter's previous flag)."""
    params = [p for m in modules if m is not None for p in m.parameters()]
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, f in zip(params, flags):
            p.requires_grad_(f)


def is_finite(x: torch.Tensor) -> bool:
    return bool(torch.isfinite(x).all())


def optimiser_step(optimiser: torch.optim.Optimizer, params: list[nn.Parameter], grad_clip: float,
                   scheduler=None) -> tuple[bool, float]:
    """Clip and step; a non-finite gradient norm skips the update (grads dropped). Returns (stepped, grad_norm)."""
    grads = [p for p in params if p.grad is not None]
    if not grads:
        optimiser.zero_grad(set_to_none=True)
        return False, 0.0
    if grad_clip > 0:
        norm = torch.nn.utils.clip_grad_norm_(grads, grad_clip)
    else:
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in grads]))
    from torch.distributed.tensor import DTensor

    if isinstance(norm, DTensor):  # FSDP2: the norm over every rank's shards
        norm = norm.full_tensor()
    norm_f = float(norm)
    from vdot_train.distributed import all_ranks_agree

    if not all_ranks_agree(math.isfinite(norm_f), norm.device):
        optimiser.zero_grad(set_to_none=True)
        return False, norm_f
    optimiser.step()
    optimiser.zero_grad(set_to_none=True)
    if scheduler is not None:
        scheduler.step()
    return True, norm_f


def warmup_scheduler(optimiser: torch.optim.Optimizer, warmup_steps: int):
    return torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup_steps) if warmup_steps > 0 else 1.0)


def adam(params: Iterable[nn.Parameter] | list[dict], lr: float, betas: tuple[float, float], weight_decay: float,
         eps: float = 1e-8, implementation: str = "fused") -> torch.optim.Optimizer:
    """Adam with decoupled weight decay (AdamW), as the official code's `AdamW(betas=(0, 0.999), wd=0.01)`.

    implementation: "fused" (one kernel per step, no temporaries), "foreach" (torch's default on CUDA, what the
    official code runs: the same update up to rounding, but one temporary as large as the local parameters during
    the step), "for-loop", or "default" (torch's own choice: foreach on CUDA, for-loop on CPU)."""
    kw = ({} if implementation == "default" else {"fused": True} if implementation == "fused"
          else {"foreach": implementation == "foreach"})
    return torch.optim.AdamW(params, lr=lr, betas=(float(betas[0]), float(betas[1])), weight_decay=weight_decay,
                             eps=eps, **kw)


class EMA:
    """θ_ema ← d·θ_ema + (1 − d)·θ over the trainable parameters of a module."""

    def __init__(self, module: nn.Module, decay: float):
        self.decay = decay
        self.shadow = {k: v.detach().clone().float() for k, v in module.state_dict().items()}

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        for k, v in module.state_dict().items():
            if v.dtype.is_floating_point:
                self.shadow[k].mul_(self.decay).add_(v.detach().float(), alpha=1 - self.decay)
            else:
                self.shadow[k].copy_(v)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.shadow

    def load_state_dict(self, sd: dict[str, torch.Tensor]) -> None:
        self.shadow = {k: v.clone().float() for k, v in sd.items()}


def rng_state(gen: torch.Generator) -> dict:
    return {"gen": gen.get_state(), "torch": torch.get_rng_state(), "numpy": np.random.get_state()[1].tolist(),
            "numpy_pos": int(np.random.get_state()[2])}


def load_rng_state(gen: torch.Generator, state: dict) -> None:
    gen.set_state(state["gen"])
    torch.set_rng_state(state["torch"])
    np.random.set_state(("MT19937", np.array(state["numpy"], dtype=np.uint32), state["numpy_pos"], 0, 0.0))


class JsonlLog:
    """One JSON object per logged step in <out_dir>/log.jsonl (appended; resumed runs continue the file)."""

    def __init__(self, out_dir: str | Path):
        self.path = Path(out_dir) / "log.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, record: dict) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
