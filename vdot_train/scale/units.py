"""Which submodules become FSDP units: one function, read by `distributed.parallelize` and by the memory planner.

Policies (`fsdp_wrap`):
  "size"   the official code's policy (FSDP1 `size_based_auto_wrap_policy`, min_num_params 5e7, in
           `utils/distributed.py: fsdp_wrap`): walking leaf-first, every submodule whose parameters not yet in a unit
           number at least `min_params` becomes one. At Wan-14B width (dim 5120) that is each attention module and each
           feed-forward linear (≈ 105 M / 71 M parameters); at 1.3B width (dim 1536) nothing below a block reaches 5e7.
           FSDP1 would then wrap the whole `blocks` list, which FSDP2 cannot (a ModuleList has no forward of its own);
           here every block (and discriminator head) is always a unit, which holds what its sub-units left.
  "block"  one unit per transformer block (main and VACE) and per head, nothing finer.
The root (the network itself) is the last unit; it keeps what no unit took (embeddings, output head) and, as FSDP2's
root, stays gathered between forward and backward, so the size policy also takes the large embedding linears off it.
"""
from __future__ import annotations

from typing import Literal

from torch import nn

WrapPolicy = Literal["size", "block"]
OFFICIAL_MIN_PARAMS = 50_000_000


def _own(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters(recurse=False))


def _blocks(model: nn.Module) -> list[nn.Module]:
    inner = getattr(model, "transformer", model)
    return [b for name in ("blocks", "vace_blocks", "heads") for b in getattr(inner, name, [])]


def fsdp_units(model: nn.Module, policy: WrapPolicy = "size", min_params: int = OFFICIAL_MIN_PARAMS) -> list[nn.Module]:
    """The units of `model` in the order to shard them (children before their parents; the root last)."""
    if policy not in ("size", "block"):
        raise ValueError(f"fsdp_wrap={policy!r}: use 'size' (the official policy) or 'block'")
    blocks = {id(b) for b in _blocks(model)}
    units: list[nn.Module] = []

    def visit(m: nn.Module) -> int:
        """Parameters under `m` not yet in a unit; appends the units found below and at `m`."""
        left = _own(m) + sum(visit(c) for c in m.children())
        if m is model:
            return left
        if id(m) in blocks or (policy == "size" and left >= min_params and not isinstance(m, (nn.ModuleList,
                                                                                            nn.ModuleDict))):
            units.append(m)
            return 0
        return left

    visit(model)
    return units + [model]


def unit_sizes(model: nn.Module, policy: WrapPolicy = "size", min_params: int = OFFICIAL_MIN_PARAMS) -> list[int]:
    """Parameters each unit of `fsdp_units` holds itself (a unit's sub-units excluded), in the same order."""
    units = fsdp_units(model, policy, min_params)
    ids = {id(u) for u in units}

    def held(m: nn.Module) -> int:
        return _own(m) + sum(held(c) for c in m.children() if id(c) not in ids)

    return [held(u) for u in units]
