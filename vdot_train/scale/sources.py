"""Where each network's weights come from, as WeightSources read by key (vdot_train.scale.weights).

teacher and fake score: the teacher's diffusers files (model.path);
generator: the teacher's files, overlaid by AccWanInit's phase-1 weights for every main (non-VACE) key, then by a
student checkpoint (init.generator) for every key.
"""
from __future__ import annotations

from pathlib import Path

import torch

from uvc_data.errors import ConfigError, MissingWeightsError
from vdot_train.models.accwan import VACE_ONLY_PREFIXES
from vdot_train.scale.weights import OverlaySource, SafetensorsSource, StateDictSource, WeightSource
from vdot_train.trainer.common import log


def open_source(path: str | Path, what: str = "weights") -> WeightSource:
    """A source for: a .safetensors file, a diffusers dir (or one holding transformer/), a training checkpoint
    (sharded DCP or safetensors layout; its generator), or an official `.pt` (converted in memory: a whole network in
    one process — convert it once with `uvc train convert` for sharded runs)."""
    p = Path(path)
    if p.suffix in (".pt", ".pth") and p.is_file():
        from vdot_train.models.convert import load_original_checkpoint

        log.warning("%s: every rank maps the whole .pt (paged in as read); convert it once with "
                    "`uvc train convert %s OUT/ --config-from TEACHER` and point at OUT/ for sliced reads", p, p)
        return StateDictSource(load_original_checkpoint(p))
    from vdot_train.scale.dcp_checkpoint import DCPSource, find_dcp_checkpoint

    ckpt = find_dcp_checkpoint(p)
    if ckpt is not None:
        return DCPSource(ckpt, "generator")
    try:
        return SafetensorsSource(p)
    except MissingWeightsError:
        pass
    from vdot_train.trainer.checkpoint import resolve_checkpoint

    try:
        ck = resolve_checkpoint(p)
    except MissingWeightsError:
        raise MissingWeightsError(what, [str(p), str(p / "transformer"), str(p / "checkpoints")],
                                  "give a diffusers dir, a .safetensors file, an official .pt or a training "
                                  "checkpoint written by `uvc train`") from None
    for name in ("generator", "model"):
        if (ck / f"{name}.safetensors").is_file():
            return SafetensorsSource(ck / f"{name}.safetensors")
    raise MissingWeightsError(what, [str(ck / "generator.safetensors")], "point at a checkpoint of `uvc train`")


class LoraSource:
    """`base` with a step-distillation LoRA merged per key and per row slice (vdot_train.models.accwan, LoRA-1):
    rows r of W + (α/k)·U·D + diffs are rows r of W plus (α/k)·U[r]·D plus diffs[r], so each rank merges only its
    own shard."""

    def __init__(self, base: WeightSource, lora_file: Path):
        from safetensors.torch import load_file

        from vdot_train.models.accwan import read_lora

        self.base = base
        self.deltas = read_lora(load_file(str(lora_file)), set(base.keys()))

    def keys(self):
        return self.base.keys()

    def shape(self, key: str) -> tuple[int, ...]:
        return self.base.shape(key)

    def read(self, key: str, rows: slice | None = None) -> torch.Tensor:
        from vdot_train.models.accwan import LoraDelta, merge_lora_weight

        w = self.base.read(key, rows)
        d = self.deltas.get(key)
        if d is None or rows is None:
            return merge_lora_weight(key, w, d)
        part = LoraDelta(down=d.down, up=None if d.up is None else d.up[rows], alpha=d.alpha,
                         add=[a[rows] for a in d.add])
        return merge_lora_weight(key, w, part)


def is_lora_file(path: str | Path) -> bool:
    p = Path(path)
    if p.suffix != ".safetensors" or not p.is_file():
        return False
    from safetensors import safe_open

    from vdot_train.models.accwan import is_lora_state

    with safe_open(str(p), framework="pt") as f:
        return is_lora_state(dict.fromkeys(f.keys()))  # decided by the key layout alone


def accwan_overlay(base: WeightSource, phase1: str, main_keys: list[str]) -> WeightSource:
    """AccWanInit (method.md): main Wan weights from the phase-1 few-step T2V weights, VACE-only weights
    (vace_blocks.*, vace_patch_embedding.*) from the teacher. A step-distillation LoRA file (lora_down / lora_up /
    diff_b / diff) is merged into the teacher's own main weights instead, as the official code injects it."""
    if is_lora_file(phase1):
        return LoraSource(base, Path(phase1))
    top = open_source(phase1, "the phase-1 (AccWanInit) weights")
    src = OverlaySource(base, top, lambda k: not k.startswith(VACE_ONLY_PREFIXES), name="accwan")
    missing = src.missing_from_top(main_keys)
    if missing:
        raise ConfigError("init.accwan_from", f"the T2V checkpoint lacks {len(missing)} main weights of the VACE "
                                              f"model (first: {missing[:3]}): is it a checkpoint of the same size?")
    bad = [k for k in main_keys if not k.startswith(VACE_ONLY_PREFIXES) and tuple(top.shape(k)) != tuple(base.shape(k))]
    if bad:
        raise ConfigError("init.accwan_from", f"shape mismatch for {bad[:3]}: the T2V checkpoint is another size")
    return src


def generator_source(teacher: WeightSource, accwan_from: str, init_generator: str,
                     param_keys: list[str]) -> WeightSource:
    src: WeightSource = teacher
    if accwan_from:
        src = accwan_overlay(src, accwan_from, param_keys)
        log.info("AccWanInit: main weights from %s, VACE blocks from the teacher", accwan_from)
    if init_generator:
        src = OverlaySource(src, open_source(init_generator, "the student weights (init.generator)"),
                            lambda k: True, name="init.generator")
        missing = src.missing_from_top(param_keys)
        if missing:
            raise ConfigError("init.generator", f"{init_generator} lacks {len(missing)} weights of the model (first: "
                                                f"{missing[:3]}): check model.kind / model.path")
    return src
