"""Give a meta-built (and possibly FSDP2-sharded) module its weights, each rank reading only its own rows.

For an FSDP2 parameter (a DTensor sharded on dim 0) the local shard is rows [offset, offset + n) of the full tensor;
they are read from the source by key (a memory-mapped slice), cast to the parameter's dtype and copied into the
local storage. No rank ever holds a whole network: the largest transient is one parameter's shard.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from uvc_data.errors import ConfigError
from vdot_train.scale.weights import WeightSource


@dataclass
class MaterialiseReport:
    loaded: int = 0
    bytes_read: int = 0


def _local_rows(p: torch.Tensor) -> tuple[torch.Tensor, slice | None]:
    """(local storage to fill, rows of the full tensor it holds; None = all)."""
    from torch.distributed.tensor import DTensor

    if not isinstance(p, DTensor):
        return p, None
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset

    shape, offset = compute_local_shape_and_global_offset(p.shape, p.device_mesh, p.placements)
    if any(o != 0 for o in offset[1:]):
        raise NotImplementedError(f"only dim-0 sharding is supported, got placements {p.placements}")
    return p.to_local(), slice(offset[0], offset[0] + shape[0]) if len(shape) else None


@torch.no_grad()
def materialise(module: nn.Module, source: WeightSource, device: torch.device | str, what: str = "model",
                prefix: str = "", strict: bool = True) -> MaterialiseReport:
    """Allocate `module`'s parameters on `device` (only the local shards under FSDP2) and fill them from `source`.

    `module` is the outermost FSDP unit (allocation must go through it); the key of parameter `name` is `name`
    without `prefix` (e.g. "transformer." for a Denoiser, whose source holds diffusers transformer keys); parameters
    outside `prefix` are not expected in `source`. Buffers keep the values they were built with (moved to
    `device`); persistent buffers present in `source` are loaded. `strict`: every parameter under `prefix` must be in
    `source` and every source key must be one of them (or a buffer), with equal full shapes — else ConfigError.
    """
    buffers = {n: b.detach().clone() for n, b in module.named_buffers() if not b.is_meta}
    params = {n[len(prefix):]: p for n, p in module.named_parameters() if n.startswith(prefix)}
    have = set(source.keys())
    if strict:
        missing = [k for k in params if k not in have]
        known = set(params) | {n[len(prefix):] for n, _ in module.named_buffers() if n.startswith(prefix)}
        unexpected = [k for k in have if k not in known]
        bad = [k for k in params if k in have and tuple(source.shape(k)) != tuple(params[k].shape)]
        if missing or unexpected or bad:
            raise ConfigError("model.path", f"the weights for the {what} do not fit its architecture: missing "
                                            f"{missing[:3]}, unexpected {unexpected[:3]}, other shape {bad[:3]} — "
                                            "check model.kind and that the files are of the same model size")
    module.to_empty(device=device)
    report = MaterialiseReport()
    for name, p in module.named_parameters():
        key = name[len(prefix):]
        if not name.startswith(prefix) or key not in have:
            continue
        local, rows = _local_rows(p)
        if local.numel() == 0:
            continue
        t = source.read(key, rows)
        local.copy_(t.to(device=local.device, dtype=local.dtype))
        report.loaded += 1
        report.bytes_read += t.numel() * t.element_size()
    for name, b in buffers.items():
        module.get_buffer(name).copy_(b)
    for name, b in module.named_buffers():
        key = name[len(prefix):]
        if name.startswith(prefix) and key in have and name not in buffers:
            b.copy_(source.read(key).to(b.dtype))
    return report
