"""Checkpoints: atomic directories of safetensors weights + one plain-state file (teacher pretraining; the VDOT
trainer writes sharded DCP checkpoints, vdot_train.scale.dcp_checkpoint, and reads this layout for older runs).

Layout of `<out_dir>/checkpoints/step_XXXXXXX/`:
  <name>.safetensors   one per trained module (generator, fake_score, disc_heads, generator_ema, model); transformer
                       weights use diffusers key names, so `generator.safetensors` loads into WanVACETransformer3DModel
  state.pt             torch.save of plain state only (optimisers, lr schedulers, RNG states, data position, step,
                       counters); read back with torch.load(weights_only=True)
  config.json          the run's config
`<out_dir>/checkpoints/latest` names the newest complete checkpoint. A checkpoint is written into a temporary
directory and renamed into place, so a crash never leaves a half-written one under a final name.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from uvc_data.errors import ConfigError, MissingWeightsError

STATE_FILE = "state.pt"
LATEST = "latest"


def _save_weights(path: Path, state_dict: dict[str, torch.Tensor]) -> None:
    from safetensors.torch import save_file

    save_file({k: v.detach().cpu().contiguous() for k, v in state_dict.items()}, str(path))


def load_weights(path: str | Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(path))


def step_dir_name(step: int) -> str:
    return f"step_{step:07d}"


def save_checkpoint(root: str | Path, step: int, weights: dict[str, dict[str, torch.Tensor]], state: dict[str, Any],
                    config: dict[str, Any] | None = None, keep: int = 0) -> Path:
    """Write `root/step_XXXXXXX` atomically, point `root/latest` at it, keep the newest `keep` (0 = all)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / step_dir_name(step)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=root))
    try:
        for name, sd in weights.items():
            _save_weights(tmp / f"{name}.safetensors", sd)
        torch.save(state, tmp / STATE_FILE)
        (tmp / "config.json").write_text(json.dumps(config or {}, indent=2, default=str))
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    latest_tmp = root / f".{LATEST}.tmp"
    latest_tmp.write_text(final.name)
    os.replace(latest_tmp, root / LATEST)
    if keep > 0:
        steps = sorted(p for p in root.glob("step_*") if p.is_dir())
        for old in steps[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(root: str | Path) -> Path | None:
    root = Path(root)
    marker = root / LATEST
    if marker.is_file():
        p = root / marker.read_text().strip()
        if (p / STATE_FILE).is_file():
            return p
    steps = sorted(p for p in root.glob("step_*") if (p / STATE_FILE).is_file())
    return steps[-1] if steps else None


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint dir, or a run/checkpoints root (→ its latest)."""
    p = Path(path)
    if (p / STATE_FILE).is_file():
        return p
    for root in (p, p / "checkpoints"):
        found = latest_checkpoint(root) if root.is_dir() else None
        if found is not None:
            return found
    raise MissingWeightsError("a training checkpoint", [str(p), str(p / "checkpoints")],
                              "give a checkpoint dir (…/checkpoints/step_XXXXXXX) or a run dir that holds one")


def load_checkpoint(path: str | Path) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, Any]]:
    ckpt = resolve_checkpoint(path)
    weights = {f.stem: load_weights(f) for f in sorted(ckpt.glob("*.safetensors"))}
    state = torch.load(ckpt / STATE_FILE, map_location="cpu", weights_only=True)
    return weights, state


def read_transformer_state(source: str | Path, prefer_ema: bool = False) -> dict[str, torch.Tensor]:
    """A transformer state dict (diffusers key names) from: a .safetensors file; an official VDOT `.pt`
    ({'generator': original Wan/VACE layout}, converted); a diffusers dir (transformer/ or the component itself);
    a checkpoint dir or run dir (generator_ema / model_ema when `prefer_ema` and present, else generator, else model)."""
    p = Path(source)
    if p.suffix == ".safetensors" and p.is_file():
        return load_weights(p)
    if p.suffix in (".pt", ".pth") and p.is_file():
        from vdot_train.models.convert import load_original_checkpoint

        return load_original_checkpoint(p)
    for d in (p / "transformer", p):
        files = sorted(d.glob("diffusion_pytorch_model*.safetensors")) if d.is_dir() else []
        if (d / "config.json").is_file() and files:
            out: dict[str, torch.Tensor] = {}
            for f in files:
                out.update(load_weights(f))
            return out
    from vdot_train.scale.dcp_checkpoint import find_dcp_checkpoint, read_module_state, tensor_metadata

    dcp_ckpt = find_dcp_checkpoint(p)
    if dcp_ckpt is not None:  # a sharded checkpoint of `uvc train train`: one network, read in this process
        has_ema = any(k.startswith("generator_ema.") for k in tensor_metadata(dcp_ckpt))
        return read_module_state(dcp_ckpt, "generator_ema" if prefer_ema and has_ema else "generator")
    ckpt = resolve_checkpoint(p)
    names = (["generator_ema", "model_ema"] if prefer_ema else []) + ["generator", "model"]
    file = next((ckpt / f"{n}.safetensors" for n in names if (ckpt / f"{n}.safetensors").is_file()), None)
    if file is None:
        raise MissingWeightsError("student generator weights", [str(ckpt / f"{n}.safetensors") for n in names],
                                  "point at a checkpoint written by `uvc train train` or `uvc train pretrain`")
    return load_weights(file)


def load_student_weights(denoiser: torch.nn.Module, source: str | Path, prefer_ema: bool = False) -> None:
    """Load student weights (any source `read_transformer_state` takes) into a Denoiser, strictly."""
    sd = read_transformer_state(source, prefer_ema)
    missing, unexpected = denoiser.transformer.load_state_dict(sd, strict=False)  # type: ignore[attr-defined]
    if missing or unexpected:
        raise ConfigError("weights", f"{source} does not fit the model architecture (missing {list(missing)[:5]}, "
                                     f"unexpected {list(unexpected)[:5]}): check model.kind / model.path")
