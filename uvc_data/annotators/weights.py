"""Finding and loading local weights: every miss raises MissingWeightsError (what, where looked, how to provide)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from uvc_data.errors import MissingWeightsError


def weights_file(path: str, what: str, how: str) -> Path:
    """The existing weights file at `path`, or MissingWeightsError."""
    p = Path(path).expanduser() if path else None
    if p is None or not p.is_file():
        raise MissingWeightsError(what, [str(p)] if p else [], how)
    return p


def pretrained_dir(path: str, what: str, how: str, must_have: tuple[str, ...] = ("config.json",)) -> Path:
    """An existing `from_pretrained` folder at `path` holding `must_have`, or MissingWeightsError."""
    p = Path(path).expanduser() if path else None
    if p is None or not p.is_dir() or any(not (p / f).is_file() for f in must_have):
        looked = [f"{p}/{{{','.join(must_have)}}}"] if p else []
        raise MissingWeightsError(what, looked, how)
    return p


def load_state_dict(path: Path) -> dict[str, Any]:
    """A state dict from .safetensors (preferred) or a torch file loaded with weights_only=True (no pickled code)."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    import torch

    obj = torch.load(str(path), map_location="cpu", weights_only=True)
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a state dict, got {type(obj).__name__}; save model.state_dict()")
    return obj


def auto_dtype(torch, dtype: str, device: str):
    """"auto" → bfloat16 on CUDA, float32 elsewhere; a dtype name → that torch dtype."""
    if dtype == "auto":
        return torch.bfloat16 if str(device).startswith("cuda") else torch.float32
    return getattr(torch, dtype)


def resolve_device(device: str) -> str:
    """"auto" → "cuda" when available, else "cpu"; anything else as given."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
