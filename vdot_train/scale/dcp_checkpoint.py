"""Sharded training checkpoints with torch.distributed.checkpoint (DCP).

Layout of `<out_dir>/checkpoints/step_XXXXXXX/`:
  .metadata, __<rank>_<n>.distcp   DCP: every rank writes its own shards of generator, fake_score, disc_heads (and
                                   generator_ema, single process), and of both optimisers' states (keyed by parameter
                                   name, so a checkpoint loads at another world size: DCP reshards on load)
  state.pt                         rank 0: step, counters, LR schedulers, data position, world size
                                   (torch.save of plain state; read with torch.load(weights_only=True))
  config.json                      the run's config
Written into `.step_XXXXXXX.tmp/` and renamed into place by rank 0 after every rank finished; `latest` names the
newest complete one. Module weights are stored under their diffusers key names (`generator.<key>`), so a single
process can read one network key by key (`DCPSource`, `iter_tensor_groups`) without any process group.
"""
from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any, Iterator

import torch
import torch.distributed as dist

from uvc_data.errors import MissingWeightsError

METADATA = ".metadata"
# DCP warns on every single-process call (no_dist=True is what we mean there)
warnings.filterwarnings("ignore", message="torch.distributed is disabled, unavailable or uninitialized")


def is_dcp_checkpoint(path: str | Path) -> bool:
    return (Path(path) / METADATA).is_file()


def find_dcp_checkpoint(path: str | Path) -> Path | None:
    """`path` itself, or the latest checkpoint of a run / checkpoints dir, when it is a DCP checkpoint."""
    from vdot_train.trainer.checkpoint import resolve_checkpoint

    p = Path(path)
    if is_dcp_checkpoint(p):
        return p
    if not p.is_dir():
        return None
    try:
        ck = resolve_checkpoint(p)
    except MissingWeightsError:
        return None
    return ck if is_dcp_checkpoint(ck) else None


def tensor_metadata(ckpt: str | Path) -> dict[str, Any]:
    """{flattened key: TensorStorageMetadata (size, properties.dtype)} of a DCP checkpoint."""
    from torch.distributed.checkpoint import FileSystemReader
    from torch.distributed.checkpoint.metadata import TensorStorageMetadata

    md = FileSystemReader(str(ckpt)).read_metadata().state_dict_metadata
    return {k: v for k, v in md.items() if isinstance(v, TensorStorageMetadata)}


def _load_plain(ckpt: str | Path, name: str, keys: list[str], shapes: dict[str, Any]) -> dict[str, torch.Tensor]:
    import torch.distributed.checkpoint as dcp

    out = {k: torch.empty(tuple(shapes[k].size), dtype=shapes[k].properties.dtype) for k in keys}
    dcp.load({name: out}, checkpoint_id=str(ckpt), no_dist=True)
    return out


class DCPSource:
    """One module of a DCP checkpoint as a WeightSource, read one tensor at a time in this process (checks and
    single tensors; a whole sharded network loads with `load_module_shards`, one collective read)."""

    def __init__(self, ckpt: str | Path, name: str):
        self.ckpt, self.name = Path(ckpt), name
        prefix = f"{name}."
        self._md = {k[len(prefix):]: v for k, v in tensor_metadata(ckpt).items() if k.startswith(prefix)}
        if not self._md:
            raise MissingWeightsError(f"the {name} weights", [str(self.ckpt)],
                                      f"this checkpoint holds no {name}: point at a `uvc train train` checkpoint")

    def keys(self):
        return self._md.keys()

    def shape(self, key: str) -> tuple[int, ...]:
        return tuple(self._md[key].size)

    def read(self, key: str, rows: slice | None = None) -> torch.Tensor:
        t = _load_plain(self.ckpt, self.name, [key], self._md)[key]
        return t if rows is None else t[rows].clone()


def iter_tensor_groups(ckpt: str | Path, name: str, max_bytes: int = 2 << 30) -> Iterator[dict[str, torch.Tensor]]:
    """`name`'s tensors in groups of at most `max_bytes` (one tensor may exceed it alone), in key order; only one
    group is in memory at a time (export writes one safetensors shard per group)."""
    src = DCPSource(ckpt, name)
    group: list[str] = []
    size = 0
    for k in sorted(src.keys()):
        md = src._md[k]
        n = torch.Size(md.size).numel() * torch.empty((), dtype=md.properties.dtype).element_size()
        if group and size + n > max_bytes:
            yield _load_plain(ckpt, name, group, src._md)
            group, size = [], 0
        group.append(k)
        size += n
    if group:
        yield _load_plain(ckpt, name, group, src._md)


def read_module_state(ckpt: str | Path, name: str) -> dict[str, torch.Tensor]:
    """A whole module's state dict in this process (sampling / bench: one network, fine on one machine)."""
    out: dict[str, torch.Tensor] = {}
    for g in iter_tensor_groups(ckpt, name):
        out.update(g)
    return out


def _rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def _barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


class ShardedCheckpointer:
    """Saves and loads a trainer's sharded state. `app_state()` must return the nested dict of tensors (DTensors
    under FSDP) to save; `save` is a collective: every rank calls it. `async_save`: the write overlaps with training
    (DCP's async_save on its own gloo group); the checkpoint is renamed into place when it finished."""

    def __init__(self, root: str | Path, keep: int = 0, async_save: bool = False):
        self.root, self.keep, self.async_save = Path(root), keep, async_save
        self._pending: tuple[Any, Path, Path, dict, dict] | None = None
        self._group = None

    def save(self, step: int, app: dict[str, Any], plain: dict[str, Any], config: dict[str, Any]) -> Path:
        import torch.distributed.checkpoint as dcp

        from vdot_train.trainer.checkpoint import step_dir_name

        self.wait()
        final = self.root / step_dir_name(step)
        tmp = self.root / f".{final.name}.tmp"
        if _rank() == 0:
            self.root.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
        _barrier()
        if self.async_save:
            if dist.is_initialized() and self._group is None:
                self._group = dist.new_group(backend="gloo")
            fut = dcp.async_save(app, checkpoint_id=str(tmp), process_group=self._group)
            self._pending = (fut, tmp, final, plain, config)
            return final
        dcp.save(app, checkpoint_id=str(tmp), no_dist=not dist.is_initialized())
        self._finalise(tmp, final, plain, config)
        return final

    def wait(self) -> None:
        """Finish a pending asynchronous save (every rank calls it)."""
        if self._pending is None:
            return
        fut, tmp, final, plain, config = self._pending
        self._pending = None
        fut.result()
        self._finalise(tmp, final, plain, config)

    def _finalise(self, tmp: Path, final: Path, plain: dict, config: dict) -> None:
        from vdot_train.trainer.checkpoint import LATEST, STATE_FILE

        _barrier()  # every rank's shards are on disk
        if _rank() == 0:
            torch.save(plain, tmp / STATE_FILE)
            (tmp / "config.json").write_text(json.dumps(config, indent=2, default=str))
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
            marker = self.root / f".{LATEST}.tmp"
            marker.write_text(final.name)
            os.replace(marker, self.root / LATEST)
            if self.keep > 0:
                steps = sorted(p for p in self.root.glob("step_*") if p.is_dir())
                for old in steps[:-self.keep]:
                    shutil.rmtree(old, ignore_errors=True)
        _barrier()

    @staticmethod
    def load(path: str | Path, app: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
        """Load the sharded tensors of `path` into `app` in place (resharding to this world size) and return the
        plain state. Every key of `app` must be in the checkpoint except under the top-level names `optional`
        (optimiser states of parameters that had not been stepped when it was saved)."""
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint import DefaultLoadPlanner
        from torch.distributed.checkpoint._nested_dict import flatten_state_dict

        from vdot_train.trainer.checkpoint import STATE_FILE

        present = checkpoint_keys(path)
        flat, _ = flatten_state_dict(app)
        missing = [k for k in flat if k not in present and not k.startswith(tuple(f"{o}." for o in optional))]
        if missing:
            raise MissingWeightsError(f"{len(missing)} tensors of this run (first: {missing[:3]})", [str(path)],
                                      "resume with the same model and loss settings as the run that wrote it")
        dcp.load(app, checkpoint_id=str(path), planner=DefaultLoadPlanner(allow_partial_load=True),
                 no_dist=not dist.is_initialized())
        return torch.load(Path(path) / STATE_FILE, map_location="cpu", weights_only=True)


def load_module_shards(module: torch.nn.Module, ckpt: str | Path, name: str, prefix: str = "",
                       what: str = "model") -> int:
    """Fill `module`'s (allocated, possibly FSDP2-sharded) parameters from module `name` of a DCP checkpoint in
    ONE collective `dcp.load`: each rank reads only the bytes of its own shards (DCP reshards when the checkpoint
    was written at another world size), one metadata read, no whole tensor anywhere. Keys are the parameter names
    without `prefix`; every one must be in the checkpoint with its full shape (else ConfigError). Returns the number
    of tensors loaded."""
    import torch.distributed.checkpoint as dcp

    from uvc_data.errors import ConfigError

    md = {k[len(name) + 1:]: v for k, v in tensor_metadata(ckpt).items() if k.startswith(f"{name}.")}
    params = {n[len(prefix):]: p for n, p in module.named_parameters() if n.startswith(prefix)}
    missing = [k for k in params if k not in md]
    bad = [k for k in params if k in md and tuple(md[k].size) != tuple(params[k].shape)]
    if missing or bad:
        raise ConfigError("init.generator", f"{ckpt}: the {what} weights do not fit the model: missing {missing[:3]}, "
                                            f"other shape {bad[:3]} — check model.kind and model.path")
    with torch.no_grad():
        dcp.load({name: {k: p.detach() for k, p in params.items()}}, checkpoint_id=str(ckpt),
                 no_dist=not dist.is_initialized())
    return len(params)


def checkpoint_keys(ckpt: str | Path) -> set[str]:
    """Every flattened key (tensors and plain values) a DCP checkpoint holds."""
    from torch.distributed.checkpoint import FileSystemReader

    return set(FileSystemReader(str(ckpt)).read_metadata().state_dict_metadata)


def drop_unsaved_optimizer_state(optimiser: torch.optim.Optimizer, model: torch.nn.Module, name: str,
                                 present: set[str]) -> int:
    """Forget the state that loading invented for parameters the saved run had never stepped (DCP's loader
    initialises every state with one zero-gradient step first), so they start fresh as in a straight run."""
    dropped = 0
    for fqn, p in model.named_parameters():
        if f"{name}.state.{fqn}.step" not in present and p in optimiser.state:
            del optimiser.state[p]
            dropped += 1
    return dropped
