"""Weight sources read by key, one tensor (or one slice of its first dimension) at a time.

A network is never loaded whole: `materialise` asks a source for the rows of each parameter that this rank owns.
Sources:
  SafetensorsSource   a diffusers component dir (`diffusion_pytorch_model*.safetensors` + optional index.json),
                      a pipeline dir holding `transformer/`, or one `.safetensors` file; memory-mapped, sliced reads.
  OverlaySource       keys of `top` that pass a filter override `base` (AccWanInit: main weights from phase 1,
                      VACE weights from the teacher), optionally transformed per key (a LoRA merge).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Protocol

import torch

from uvc_data.errors import BadInputError, MissingWeightsError

INDEX_NAMES = ("diffusion_pytorch_model.safetensors.index.json", "model.safetensors.index.json")
FILE_GLOBS = ("diffusion_pytorch_model*.safetensors", "model*.safetensors")


class WeightSource(Protocol):
    def keys(self) -> Iterable[str]: ...

    def shape(self, key: str) -> tuple[int, ...]: ...

    def read(self, key: str, rows: slice | None = None) -> torch.Tensor:
        """The tensor `key` (rows `rows` of its first dimension when given), on the CPU."""
        ...


def _inside(root: Path, name: str) -> Path:
    """`root/name`, refusing names from an index file that leave `root` (absolute paths, `..`)."""
    p = (root / name).resolve()
    if p.parent != root.resolve() and root.resolve() not in p.parents:
        raise BadInputError(f"{root}: the index names {name!r}, which lies outside the model folder")
    return p


def safetensors_files(path: str | Path) -> list[Path]:
    """The weight files of a component: from its index (paths kept inside the folder) or its safetensors files."""
    p = Path(path)
    if p.is_file() and p.suffix == ".safetensors":
        return [p]
    for d in (p / "transformer", p):
        for idx in INDEX_NAMES:
            if (d / idx).is_file():
                weight_map = json.loads((d / idx).read_text())["weight_map"]
                files = sorted({_inside(d, f) for f in weight_map.values()})
                absent = [str(f) for f in files if not f.is_file()]
                if absent:
                    raise MissingWeightsError(f"{len(absent)} weight shard(s) named by {d / idx}", absent,
                                              "copy the whole model folder (every shard its index names)")
                return files
        found = sorted(f for g in FILE_GLOBS for f in d.glob(g)) if d.is_dir() else []
        if found:
            return found
    raise MissingWeightsError("safetensors weights", [str(p / "transformer"), str(p)],
                              "point at a diffusers model folder (config.json + *.safetensors) or a .safetensors file")


class SafetensorsSource:
    """Memory-mapped safetensors files; `read(key, rows)` touches only those rows' bytes."""

    def __init__(self, path: str | Path):
        from safetensors import safe_open

        self.path = Path(path)
        self._handles = {}
        self._where: dict[str, Path] = {}
        for f in safetensors_files(path):
            h = safe_open(str(f), framework="pt")
            self._handles[f] = h
            for k in h.keys():
                self._where[k] = f

    def keys(self) -> Iterable[str]:
        return self._where.keys()

    def shape(self, key: str) -> tuple[int, ...]:
        return tuple(self._handles[self._where[key]].get_slice(key).get_shape())

    def read(self, key: str, rows: slice | None = None) -> torch.Tensor:
        if key not in self._where:
            raise KeyError(key)
        h = self._handles[self._where[key]]
        if rows is None:
            return h.get_tensor(key)
        return h.get_slice(key)[rows]


@dataclass
class OverlaySource:
    """`top`'s tensors for the keys `use_top(key)` accepts, `base`'s otherwise; `transform(key, tensor_or_None)`
    may rewrite a tensor read from `top` (e.g. merge a LoRA delta)."""

    base: WeightSource
    top: WeightSource
    use_top: Callable[[str], bool]
    name: str = "overlay"
    _top_keys: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self._top_keys = set(self.top.keys())

    def keys(self) -> Iterable[str]:
        return self.base.keys()

    def _src(self, key: str) -> WeightSource:
        return self.top if self.use_top(key) and key in self._top_keys else self.base

    def shape(self, key: str) -> tuple[int, ...]:
        return self._src(key).shape(key)

    def read(self, key: str, rows: slice | None = None) -> torch.Tensor:
        return self._src(key).read(key, rows)

    def missing_from_top(self, keys: Iterable[str]) -> list[str]:
        return [k for k in keys if self.use_top(k) and k not in self._top_keys]


class StateDictSource:
    """An in-memory state dict as a source (small modules, tests, converted `.pt` files)."""

    def __init__(self, state: dict[str, torch.Tensor]):
        self.state = state

    def keys(self) -> Iterable[str]:
        return self.state.keys()

    def shape(self, key: str) -> tuple[int, ...]:
        return tuple(self.state[key].shape)

    def read(self, key: str, rows: slice | None = None) -> torch.Tensor:
        t = self.state[key]
        return t if rows is None else t[rows]
