"""Model registry: name → VideoModel class (lazily imported), built from typed settings; unknown names get
"did you mean" (uvc_data.errors.UnknownNameError).

A model is named in one of three ways:
- a built-in name (baseline, folder, command, diffusers, vdot) or one added with `register_model`;
- an installed plugin: a package that declares an entry point in the group `uvc_bench.models`, e.g. in its
  pyproject.toml `[project.entry-points."uvc_bench.models"] cogvideox = "uvc_cogvideox:CogVideoXBenchModel"`;
- an import path `package.module:Class` (`--model mypkg.models:MyModel`), for code that is not installed.
The class must subclass uvc_bench.models.base.VideoModel and define `Config`, a dataclass of its settings."""
from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from uvc_data.configurable import apply_overrides, from_dict, validate
from uvc_data.errors import ConfigError, UnknownNameError
from uvc_bench.models.base import VideoModel

# name → "module:Class"; modules are imported only when the model is built (heavy deps stay optional).
_MODELS: dict[str, str] = {
    "baseline": "uvc_bench.models.baseline:BaselineModel",
    "folder": "uvc_bench.models.folder:FolderModel",
    "command": "uvc_bench.models.command:CommandModel",
    "diffusers": "uvc_bench.models.diffusers_vace:DiffusersVACEModel",
    "vdot": "uvc_bench.models.vdot:VDOTModel",
}


ENTRY_POINT_GROUP = "uvc_bench.models"


def register_model(name: str, target: str) -> None:
    """Register a model class by import path "package.module:Class"."""
    _MODELS[name] = target


def plugin_models() -> dict[str, str]:
    """Installed plugins: entry-point name → "module:Class" (group `uvc_bench.models`)."""
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def model_names() -> list[str]:
    return sorted({**plugin_models(), **_MODELS})


def _import_target(target: str, what: str) -> type[VideoModel]:
    module, _, attr = target.partition(":")
    if not module or not attr:
        raise ConfigError("model", f"{target!r} is not 'package.module:Class'")
    try:
        obj = importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError("model", f"cannot import {module!r} for {what} ({exc}); install the package or put it "
                          "on PYTHONPATH") from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError("model", f"{module!r} has no {attr!r} (for {what})")
        obj = getattr(obj, part)
    if not (isinstance(obj, type) and issubclass(obj, VideoModel)):
        raise ConfigError("model", f"{target} is not a subclass of uvc_bench.models.base.VideoModel")
    if not dataclasses.is_dataclass(getattr(obj, "Config", None)):
        raise ConfigError("model", f"{target} has no `Config` dataclass of settings")
    return obj


def model_class(name: str) -> type[VideoModel]:
    if name in _MODELS:
        module, cls = _MODELS[name].split(":")
        return getattr(importlib.import_module(module), cls)
    if ":" in name:
        return _import_target(name, f"--model {name}")
    plugins = plugin_models()
    if name in plugins:
        return _import_target(plugins[name], f"the installed plugin {name!r}")
    raise UnknownNameError("model", name, [*_MODELS, *plugins])


def build_model(name: str, settings: dict[str, Any] | None = None, overrides: list[str] | None = None) -> VideoModel:
    """Build model `name` from a settings dict and/or `key=value` overrides (typed, checked by its Config)."""
    cls = model_class(name)
    cfg = from_dict(cls.Config, dict(settings or {}))
    if overrides:
        cfg = apply_overrides(cfg, overrides)
    validate(cfg)
    return cls(cfg)
