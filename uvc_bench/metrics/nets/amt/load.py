"""Loading the official AMT-S checkpoint (amt-s.pth: {"state_dict": {...}}, what VBench's MotionSmoothness loads)
strictly into the native network (uvc_data.nets.checkpoint); a bare state dict or a .safetensors is accepted too."""
from __future__ import annotations

from pathlib import Path

import torch

from uvc_bench.metrics.nets.amt.config import AMTSConfig
from uvc_bench.metrics.nets.amt.model import AMTS
from uvc_data.errors import UnusableWeightsError
from uvc_data.nets.checkpoint import CheckpointSpec, load_strict
from uvc_data.nets.checkpoint import read_state_dict as _read

SPEC = CheckpointSpec(
    what="AMT-S checkpoint (motion_smoothness)",
    how=("use the official amt-s.pth (https://huggingface.co/lalala125/AMT/resolve/main/amt-s.pth, the file VBench "
         "downloads), e.g. `python -m uvc_bench.weights fetch --dest <weights_dir> amt_s`"),
    wrapper="state_dict",
)

__all__ = ["SPEC", "UnusableWeightsError", "load_amt_s", "read_state_dict"]


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    return _read(path, SPEC)


def load_amt_s(path: str | Path, config: AMTSConfig = AMTSConfig(), device: str = "cpu") -> AMTS:
    """AMT-S with the checkpoint at `path` loaded strictly, in eval mode on `device`."""
    return load_strict(AMTS(config), path, SPEC, device, hint=f" ({config})")  # type: ignore[return-value]
