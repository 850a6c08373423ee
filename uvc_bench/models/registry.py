"""Model registry: name → VideoModel class (lazily imported), built from typed settings; unknown names get
"did you mean" (uvc_data.errors.UnknownNameError)."""
from __future__ import annotations

import importlib
from typing import Any

from uvc_data.configurable import apply_overrides, from_dict, validate
from uvc_data.errors import UnknownNameError
from uvc_bench.models.base import VideoModel

# name → "module:Class"; modules are imported only when the model is built (heavy deps stay optional).
_MODELS: dict[str, str] = {
    "baseline": "uvc_bench.models.baseline:BaselineModel",
    "folder": "uvc_bench.models.folder:FolderModel",
    "command": "uvc_bench.models.command:CommandModel",
    "diffusers": "uvc_bench.models.diffusers_vace:DiffusersVACEModel",
    "vdot": "uvc_bench.models.vdot:VDOTModel",
}


def register_model(name: str, target: str) -> None:
    """Register a model class by import path "package.module:Class" (plugins)."""
    _MODELS[name] = target


def model_names() -> list[str]:
    return sorted(_MODELS)


def model_class(name: str) -> type[VideoModel]:
    if name not in _MODELS:
        raise UnknownNameError("model", name, list(_MODELS))
    module, cls = _MODELS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def build_model(name: str, settings: dict[str, Any] | None = None, overrides: list[str] | None = None) -> VideoModel:
    """Build model `name` from a settings dict and/or `key=value` overrides (typed, checked by its Config)."""
    cls = model_class(name)
    cfg = from_dict(cls.Config, dict(settings or {}))
    if overrides:
        cfg = apply_overrides(cfg, overrides)
    validate(cfg)
    return cls(cfg)
