"""AccWanInit (method.md, "Two phases and AccWanInit"): the phase-2 VACE generator takes its main Wan weights
(patch/text/time embeddings, main blocks, head) from a few-step T2V model; the VACE-only weights (vace_blocks.*,
vace_patch_embedding.*) keep the teacher's values.

The few-step model comes either as a full phase-1 checkpoint (any source `read_transformer_state` reads) or, as in the
official code, as a step-distillation LoRA of Wan2.1-T2V-14B in the common "lora_down / lora_up / diff_b / diff" layout
(original Wan key names, optionally prefixed `diffusion_model.`):
    <module>.lora_down.weight [r, in], <module>.lora_up.weight [out, r], <module>.alpha (optional, scalar)
    <module>.diff_b  (bias delta),  <module>.diff  (weight delta of norms such as norm_q / norm_k)
Merge (LoRA-1):   W' = W + (α/r)·U·D   (scale 1 without α),   b' = b + diff_b,   w' = w + diff.

Merged, not kept as LoRA: the official code injects the LoRA into the VACE generator's main blocks and then trains the
whole generator, base AND LoRA together. At initialisation base + LoRA is the function W + (α/r)·U·D, which is exactly
the merged weight, and full training of the merged weight reaches every function base + LoRA training can (the
parametrisations differ only in how Adam's per-parameter steps are split between W and the two factors). Merging keeps
one plain Wan/VACE state dict: the sharded loader, DCP checkpoints and the exported student need no LoRA modules.
`merge_lora_weight` is pure and per key, so a sharded loader can apply it to each tensor as it is materialised.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from uvc_data.errors import BadInputError, ConfigError

VACE_ONLY_PREFIXES = ("vace_blocks.", "vace_patch_embedding.")
LORA_SUFFIXES = (".lora_down.weight", ".lora_up.weight", ".alpha", ".diff_b", ".diff")
_LORA_PREFIXES = ("diffusion_model.", "model.diffusion_model.", "transformer.")


@dataclass
class LoraDelta:
    """The LoRA-1 terms for one parameter (diffusers key); any may be absent."""

    down: torch.Tensor | None = None  # D [r, in, ...]
    up: torch.Tensor | None = None  # U [out, r, ...]
    alpha: float | None = None
    add: list[torch.Tensor] = field(default_factory=list)  # diff_b / diff: added as is


def is_lora_state(tensors: dict[str, torch.Tensor]) -> bool:
    """True when the keys follow the lora_down / lora_up / diff_b / diff layout."""
    return any(k.endswith((".lora_down.weight", ".lora_up.weight", ".diff_b", ".diff")) for k in tensors)


def _strip(key: str) -> str:
    for p in _LORA_PREFIXES:
        if key.startswith(p):
            return key[len(p):]
    return key


def read_lora(tensors: dict[str, torch.Tensor], base_keys: set[str]) -> dict[str, LoraDelta]:
    """Group LoRA file tensors by the diffusers parameter they change (`base_keys`: the model's state-dict keys).

    Raises BadInputError naming the LoRA key when a tensor does not follow the layout or targets no parameter, and
    ConfigError when it targets a VACE-only weight (a T2V LoRA has none; AccWanInit leaves those to the teacher).
    """
    from vdot_train.models.convert import original_to_diffusers

    def target(module: str, param: str) -> str | None:
        for name in (f"{module}.{param}", module) if param == "weight" else (f"{module}.{param}",):
            key = next(iter(original_to_diffusers({name: torch.empty(0)})))
            if key in base_keys:
                return key
        return None

    out: dict[str, LoraDelta] = {}
    for raw, value in tensors.items():
        key = _strip(raw)
        suffix = next((s for s in LORA_SUFFIXES if key.endswith(s)), None)
        if suffix is None:
            raise BadInputError(f"LoRA tensor {raw!r} is not in the lora_down / lora_up / alpha / diff_b / diff "
                                "layout; pass a full phase-1 checkpoint or a LoRA file in that layout")
        module = key[: -len(suffix)]
        param = "bias" if suffix == ".diff_b" else "weight"
        tgt = target(module, param)
        if tgt is None:
            raise BadInputError(f"LoRA tensor {raw!r} targets {module!r}, which the generator does not have: "
                                "is the LoRA for another model size?")
        if tgt.startswith(VACE_ONLY_PREFIXES):
            raise ConfigError("init.accwan_from", f"LoRA tensor {raw!r} targets a VACE-only weight; AccWanInit keeps "
                                                  "those from the teacher (use a T2V LoRA)")
        d = out.setdefault(tgt, LoraDelta())
        if suffix == ".lora_down.weight":
            d.down = value
        elif suffix == ".lora_up.weight":
            d.up = value
        elif suffix == ".alpha":
            d.alpha = float(value)
        else:
            d.add.append(value)
    for k, d in out.items():
        if (d.down is None) != (d.up is None):
            raise BadInputError(f"LoRA for {k!r} has only one of lora_down / lora_up; the file is incomplete")
    return out


def merge_lora_weight(key: str, base: torch.Tensor, delta: LoraDelta | None) -> torch.Tensor:
    """LoRA-1 for one parameter: base + (α/r)·U·D + Σ diffs, computed in float32, returned in base's dtype."""
    if delta is None:
        return base
    w = base.to(torch.float32)
    if delta.down is not None and delta.up is not None:
        down, up = delta.down.to(torch.float32), delta.up.to(torch.float32)
        rank = down.shape[0]
        scale = 1.0 if delta.alpha is None else delta.alpha / rank
        prod = up.flatten(1) @ down.flatten(1)  # [out, in·k…]
        if prod.numel() != w.numel():
            raise BadInputError(f"LoRA for {key!r}: up {tuple(up.shape)} · down {tuple(down.shape)} does not give "
                                f"the weight's shape {tuple(base.shape)}: is the LoRA for another model size?")
        w = w + scale * prod.reshape(w.shape)
    for diff in delta.add:
        if diff.shape != base.shape:
            raise BadInputError(f"LoRA diff for {key!r} has shape {tuple(diff.shape)}, the weight {tuple(base.shape)}")
        w = w + diff.to(torch.float32)
    return w.to(base.dtype)


def merge_lora(base_state: dict[str, torch.Tensor], lora: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Base transformer state + LoRA file tensors → merged state (a new dict; inputs unchanged), key by key."""
    deltas = read_lora(lora, set(base_state))
    return {k: merge_lora_weight(k, v, deltas.get(k)) for k, v in base_state.items()}


def accwan_state(source: str | Path, base_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The few-step main weights for AccWanInit: a LoRA file merged into `base_state` (the generator's own main
    weights, as the official code injects it), or a full checkpoint as `read_transformer_state` reads it."""
    p = Path(source)
    if p.suffix == ".safetensors" and p.is_file():
        from safetensors.torch import load_file

        tensors = load_file(str(p))
        if is_lora_state(tensors):
            return merge_lora(base_state, tensors)
    from vdot_train.trainer.checkpoint import read_transformer_state

    return read_transformer_state(p)


def accwan_init(vace_transformer: torch.nn.Module, t2v_state: dict[str, torch.Tensor]) -> list[str]:
    """Copy every non-VACE weight of `vace_transformer` from `t2v_state`; returns the copied keys.

    Raises ConfigError when a main weight is missing from the T2V state or has another shape (wrong model size).
    """
    own = vace_transformer.state_dict()
    main_keys = [k for k in own if not k.startswith(VACE_ONLY_PREFIXES)]
    missing = [k for k in main_keys if k not in t2v_state]
    if missing:
        raise ConfigError("init.accwan_from", f"the T2V checkpoint lacks {len(missing)} main weights of the VACE "
                                              f"model (first: {missing[:3]}): is it a checkpoint of the same size?")
    bad = [k for k in main_keys if tuple(t2v_state[k].shape) != tuple(own[k].shape)]
    if bad:
        raise ConfigError("init.accwan_from", f"shape mismatch for {bad[:3]}: the T2V checkpoint is another size")
    new_state = dict(own)
    for k in main_keys:
        new_state[k] = t2v_state[k].to(own[k].dtype)
    vace_transformer.load_state_dict(new_state)
    return main_keys
