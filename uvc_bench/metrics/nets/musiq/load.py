"""Load a MUSIQ checkpoint the way pyiqa's `load_pretrained_network(net, path, strict=True)` reads it for MUSIQ.

Container: the file holds the state dict itself (no 'params' / 'state_dict' wrapper — pyiqa's MUSIQ passes no
weight_keys); a 'module.' prefix from DataParallel training is stripped from every key that has it. Unlike pyiqa we
read .pth with torch.load(weights_only=True) (no arbitrary pickles) and also accept .safetensors.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import torch

from uvc_bench.metrics.nets.musiq.config import MusiqConfig
from uvc_bench.metrics.nets.musiq.model import MUSIQ
from uvc_data.errors import MissingWeightsError, UVCError
from uvc_data.imports import require

DP_PREFIX = "module."


class MusiqCheckpointError(UVCError):
    """The file is not a MUSIQ checkpoint for this architecture: the message names the file and what differs."""


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The checkpoint's tensors with any 'module.' prefix removed (pyiqa's clean_state_dict)."""
    path = Path(path)
    if not path.is_file():
        raise MissingWeightsError("MUSIQ checkpoint", [str(path)],
                                  "fetch pyiqa's musiq_spaq_ckpt-358bb6af.pth (`python -m uvc_bench.weights fetch "
                                  "--dest <weights_dir> musiq_spaq`) and pass its path")
    try:
        if path.suffix == ".safetensors":
            raw = require("safetensors.torch", "safetensors", purpose="reading .safetensors weights").load_file(
                str(path), device="cpu")
        else:
            raw = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError) as exc:  # corrupt / non-weights
        raise MusiqCheckpointError(f"cannot read MUSIQ checkpoint {path}: {exc}. Re-download the file "
                                   f"(.pth state dict or .safetensors)") from exc
    if not isinstance(raw, dict) or not all(isinstance(v, torch.Tensor) for v in raw.values()):
        keys = list(raw)[:5] if isinstance(raw, dict) else type(raw).__name__
        raise MusiqCheckpointError(f"{path} is not a plain state dict (found {keys}); pyiqa's MUSIQ loads the state "
                                   f"dict itself, with no 'params'/'state_dict' wrapper — save that inner dict")
    return {k[len(DP_PREFIX):] if k.startswith(DP_PREFIX) else k: v for k, v in raw.items()}


def check_keys(model: torch.nn.Module, state: dict[str, torch.Tensor], path: str | Path) -> None:
    """strict=True loading, with an error listing the first missing / unexpected / mis-shaped keys."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [f"{k}: file {tuple(state[k].shape)} vs model {expected[k]}"
              for k in expected if k in state and tuple(state[k].shape) != expected[k]]
    if missing or unexpected or shapes:
        hint = (" (a class-distribution head, e.g. the AVA checkpoint: set num_class=10)"
                if any(k.startswith("head.0.") for k in unexpected) else "")
        raise MusiqCheckpointError(
            f"{path} does not match MUSIQ({model.cfg}){hint}: {len(missing)} missing keys {missing[:5]}, "
            f"{len(unexpected)} unexpected keys {unexpected[:5]}, {len(shapes)} shape mismatches {shapes[:5]}. "
            f"imaging_quality needs pyiqa's musiq_spaq_ckpt-358bb6af.pth")


def load_musiq(path: str | Path, cfg: MusiqConfig | None = None, device: str = "cpu") -> MUSIQ:
    """MUSIQ(cfg) with the checkpoint at `path` loaded strictly, in eval mode on `device`."""
    model = MUSIQ(cfg)
    state = read_state_dict(path)
    check_keys(model, state, path)
    model.load_state_dict(state, strict=True)
    return model.to(device).eval()
