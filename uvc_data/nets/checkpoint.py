"""Reading a published checkpoint into a native network strictly, with errors that name the file and what differs.

One reader for every format the official files come in: a `.pth` read with torch.load(weights_only=True) (never an
arbitrary pickle) or a `.safetensors`; an optional wrapper key holding the state dict (e.g. AMT's {"state_dict": …});
DataParallel's "module." prefix stripped where present.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch

from uvc_data.errors import MissingWeightsError, UnusableWeightsError

DATAPARALLEL_PREFIX = "module."


@dataclass(frozen=True)
class CheckpointSpec:
    what: str  # e.g. "RAFT raft-things optical flow checkpoint"
    how: str  # how to provide the right file
    wrapper: str | None = None  # key the official file keeps the state dict under, if any
    error: type[UnusableWeightsError] = UnusableWeightsError


def strip_prefix(state: Mapping[str, Any], prefix: str = DATAPARALLEL_PREFIX) -> dict[str, Any]:
    """Keys without the DataParallel prefix (keys without it are kept as they are)."""
    return {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in state.items()}


def read_state_dict(path: str | Path, spec: CheckpointSpec) -> dict[str, torch.Tensor]:
    """The flat tensor dict in `path`: MissingWeightsError when absent, spec.error when unreadable or not tensors."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise MissingWeightsError(spec.what, [str(path)], spec.how)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            obj: Any = load_file(str(path))
        else:
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated file, a pickle with code, not a torch file at all: report, never a traceback
        raise spec.error(spec.what, path, f"it cannot be read ({type(exc).__name__}: {str(exc)[:200]})",
                         spec.how) from exc
    if spec.wrapper and isinstance(obj, dict) and isinstance(obj.get(spec.wrapper), dict):
        obj = obj[spec.wrapper]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        found = list(obj)[:5] if isinstance(obj, dict) else type(obj).__name__
        expected = f"a {{{spec.wrapper!r}: state dict}} or a" if spec.wrapper else "a"
        raise spec.error(spec.what, path, f"expected {expected} flat dict of tensors, found {found}", spec.how)
    return strip_prefix(obj)


def _first(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f", … ({len(items)} in all)" if len(items) > n else "")


def state_dict_mismatch(model: torch.nn.Module, state: Mapping[str, torch.Tensor]) -> str:
    """'' when `state` has exactly the model's keys and shapes, else the first missing / unexpected / mis-shaped."""
    own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k} {tuple(state[k].shape)} ≠ {own[k]}" for k in own if k in state and tuple(state[k].shape) != own[k]]
    return "; ".join(f"{kind}: {_first(items)}" for kind, items in (
        ("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", shapes)) if items)


def load_strict(model: torch.nn.Module, path: str | Path, spec: CheckpointSpec, device: str = "cpu",
                hint: str = "") -> torch.nn.Module:
    """`model` with the checkpoint at `path` loaded strictly, in eval mode on `device`; `hint` is added to a
    key/shape mismatch report (e.g. which variant the file looks like)."""
    state = read_state_dict(path, spec)
    problem = state_dict_mismatch(model, state)
    if problem:
        raise spec.error(spec.what, Path(path), f"not a checkpoint of this network{hint}: {problem}", spec.how)
    model.load_state_dict(state, strict=True)
    return model.to(device).eval()
