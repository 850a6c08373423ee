"""Loading the official RAFT checkpoint (raft-things.pth: a DataParallel state dict, every key prefixed 'module.')
or a .safetensors with the same keys, strictly (uvc_data.nets.checkpoint)."""
from __future__ import annotations

from pathlib import Path

import torch

from uvc_data.errors import UnusableWeightsError
from uvc_data.nets.checkpoint import CheckpointSpec, load_strict, read_state_dict
from uvc_data.nets.raft.config import RAFTConfig
from uvc_data.nets.raft.model import RAFT

WHAT = "RAFT raft-things optical flow checkpoint"
HOW = ("download raft-things.pth (RAFT's models.zip, or huggingface.co/ali-vilab/VACE-Annotators flow/raft-things.pth) "
       "and pass its path")


class RAFTCheckpointError(UnusableWeightsError):
    """The file exists but is not a RAFT basic-model checkpoint (the right weights are still missing)."""


def _spec(how: str) -> CheckpointSpec:
    return CheckpointSpec(WHAT, how, wrapper=None, error=RAFTCheckpointError)


def read_raft_state_dict(path: str | Path, how: str = HOW) -> dict[str, torch.Tensor]:
    """The state dict in `path` (.pth via torch.load(weights_only=True), or .safetensors), 'module.' stripped."""
    return read_state_dict(path, _spec(how))


def load_raft(path: str | Path, device: str = "cpu", cfg: RAFTConfig | None = None, how: str = HOW) -> RAFT:
    """RAFT with the checkpoint at `path` loaded strictly, in eval mode on `device` (float32)."""
    return load_strict(RAFT(cfg), path, _spec(how), device)  # type: ignore[return-value]
