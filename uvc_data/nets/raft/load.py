"""Loading the official RAFT checkpoint (raft-things.pth: a DataParallel state dict, every key prefixed 'module.')
or a .safetensors with the same keys, strictly, with errors that name the file and what is wrong with it."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import torch

from uvc_data.errors import MissingWeightsError
from uvc_data.nets.raft.config import RAFTConfig
from uvc_data.nets.raft.model import RAFT

WHAT = "RAFT raft-things optical flow checkpoint"
HOW = ("download raft-things.pth (RAFT's models.zip, or huggingface.co/ali-vilab/VACE-Annotators flow/raft-things.pth) "
       "and pass its path")
DATAPARALLEL_PREFIX = "module."


class RAFTCheckpointError(MissingWeightsError):
    """The file exists but is not a RAFT basic-model checkpoint (the right weights are still missing)."""

    def __init__(self, path: Path, problem: str, how: str = HOW):
        super().__init__(WHAT, [str(path)], f"{path} is not a raft-things checkpoint: {problem}. {how}")


def strip_prefix(state: Mapping[str, Any], prefix: str = DATAPARALLEL_PREFIX) -> dict[str, Any]:
    """Keys without the DataParallel 'module.' prefix (keys without it are kept as they are)."""
    return {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in state.items()}


def read_raft_state_dict(path: str | Path, how: str = HOW) -> dict[str, torch.Tensor]:
    """The state dict in `path` (.pth via torch.load(weights_only=True), or .safetensors), 'module.' stripped."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise MissingWeightsError(WHAT, [str(path)], how)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            obj: Any = load_file(str(path))
        else:
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated file, a pickle with code, not a torch file at all
        raise RAFTCheckpointError(path, f"it cannot be read ({type(exc).__name__}: {str(exc)[:200]})", how) from exc
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise RAFTCheckpointError(path, f"expected a flat dict of tensors, got {type(obj).__name__}", how)
    return strip_prefix(obj)


def _first(keys: set[str], n: int = 5) -> str:
    ks = sorted(keys)
    return ", ".join(ks[:n]) + (f", … ({len(ks)} in all)" if len(ks) > n else "")


def check_state_dict(model: torch.nn.Module, state: Mapping[str, torch.Tensor], path: Path, how: str = HOW) -> None:
    """Raise RAFTCheckpointError listing the first missing / unexpected keys and shape mismatches."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing, unexpected = set(expected) - set(state), set(state) - set(expected)
    wrong = {k for k in set(expected) & set(state) if tuple(state[k].shape) != expected[k]}
    problems = []
    if missing:
        problems.append(f"missing keys: {_first(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_first(unexpected)}")
    if wrong:
        problems.append("shape mismatches: " + _first({f"{k} {tuple(state[k].shape)} ≠ {expected[k]}" for k in wrong}))
    if problems:
        raise RAFTCheckpointError(path, "; ".join(problems), how)


def load_raft(path: str | Path, device: str = "cpu", cfg: RAFTConfig | None = None, how: str = HOW) -> RAFT:
    """RAFT with the checkpoint at `path` loaded strictly, in eval mode on `device` (float32)."""
    state = read_raft_state_dict(path, how)
    model = RAFT(cfg)
    check_state_dict(model, state, Path(path), how)
    model.load_state_dict(state, strict=True)
    return model.to(device).eval()
