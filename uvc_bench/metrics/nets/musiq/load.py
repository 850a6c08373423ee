"""Load a MUSIQ checkpoint the way pyiqa's `load_pretrained_network(net, path, strict=True)` reads it for MUSIQ.

Container: the file holds the state dict itself (no 'params' / 'state_dict' wrapper — pyiqa's MUSIQ passes no
weight_keys); a 'module.' prefix from DataParallel training is stripped from every key that has it. Unlike pyiqa we
read .pth with torch.load(weights_only=True) (no arbitrary pickles) and also accept .safetensors
(uvc_data.nets.checkpoint).
"""
from __future__ import annotations

from pathlib import Path

import torch

from uvc_bench.metrics.nets.musiq.config import MusiqConfig
from uvc_bench.metrics.nets.musiq.model import MUSIQ
from uvc_data.errors import UnusableWeightsError
from uvc_data.nets.checkpoint import CheckpointSpec, load_strict
from uvc_data.nets.checkpoint import read_state_dict as _read


class MusiqCheckpointError(UnusableWeightsError):
    """The file is not a MUSIQ checkpoint for this architecture: the message names the file and what differs."""


SPEC = CheckpointSpec(
    what="MUSIQ checkpoint (imaging_quality)",
    how=("use pyiqa's musiq_spaq_ckpt-358bb6af.pth as it is published, a plain state dict (`python -m "
         "uvc_bench.weights fetch --dest <weights_dir> musiq_spaq`)"),
    wrapper=None,
    error=MusiqCheckpointError,
)


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The checkpoint's tensors with any 'module.' prefix removed (pyiqa's clean_state_dict)."""
    return _read(path, SPEC)


def load_musiq(path: str | Path, cfg: MusiqConfig | None = None, device: str = "cpu") -> MUSIQ:
    """MUSIQ(cfg) with the checkpoint at `path` loaded strictly, in eval mode on `device`."""
    model = MUSIQ(cfg)
    state = read_state_dict(path)
    hint = (" — it has a class-distribution head, e.g. the AVA checkpoint: set num_class=10"
            if any(k.startswith("head.0.") for k in state) else "")
    return load_strict(model, path, SPEC, device, hint=f" ({model.cfg}){hint}")  # type: ignore[return-value]
