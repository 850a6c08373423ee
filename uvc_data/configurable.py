"""Typed configs: dataclasses loaded from TOML/JSON/dicts with dotted overrides, checked field by field.

Unknown keys are rejected with a "did you mean"; a wrong type names the field; `validate()` on a config class does the
cross-field checks and raises ConfigError naming the field to change.
"""
from __future__ import annotations

import dataclasses
import json
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from uvc_data.errors import ConfigError, UnknownNameError

C = TypeVar("C")


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a, where)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(where, f"{value!r} fits none of {tp}")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(where, f"{value!r} is not one of {list(args)}")
        return value
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(where, f"expected a table of {tp.__name__} fields, got {value!r}")
        return from_dict(tp, value, prefix=where + ".")
    if origin in (list, tuple):
        if isinstance(value, str):
            value = [v for v in value.split(",") if v != ""]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(where, f"expected a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise ConfigError(where, f"expected {len(args)} values, got {value!r}")
            return tuple(_coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
        inner = args[0] if args else Any
        out = [_coerce(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(out) if origin is tuple else out
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(where, f"expected a table, got {value!r}")
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise ConfigError(where, f"expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(where, f"expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(where, f"expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(where, f"expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(where, f"expected a string, got {value!r}")
    return value


def from_dict(cls: type[C], data: dict[str, Any], prefix: str = "") -> C:
    """Build dataclass `cls` from a dict, recursively; unknown keys → error with suggestions."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
    kwargs = {}
    for key, value in data.items():
        if key not in names:
            err = UnknownNameError("config field", prefix + key, [prefix + n for n in names])
            raise ConfigError(prefix + key, str(err))
        kwargs[key] = _coerce(value, hints[key], prefix + key)
    try:
        obj = cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(prefix.rstrip(".") or cls.__name__, str(exc)) from exc
    return obj


def to_dict(cfg: Any) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(cfg), default=str))


def _field_type(tp: Any, name: str) -> Any:
    """The declared type of field `name` of dataclass `tp` (Optional unwrapped), or None when there is no such field."""
    hints = typing.get_type_hints(tp)
    if name not in hints:
        return None
    ftp = hints[name]
    if typing.get_origin(ftp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(ftp) if a is not type(None)]
        ftp = args[0] if len(args) == 1 else ftp
    return ftp


def apply_overrides(cfg: C, overrides: list[str]) -> C:
    """Apply `a.b.c=value` overrides (value parsed as JSON when it parses, else kept as a string).

    Below a field typed as a dict (free-form options such as `annotator_options`), keys may be created:
    `annotator_options.depth.weights=/models/da` makes {"depth": {"weights": "/models/da"}}."""
    data = to_dict(cfg)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(item, "an override is written key.path=value")
        path, raw = item.split("=", 1)
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        parts = path.strip().split(".")
        node, tp, free = data, type(cfg), False
        for i, p in enumerate(parts):
            last = i == len(parts) - 1
            if not free:
                ftp = _field_type(tp, p)
                if ftp is None:
                    err = UnknownNameError("config field", path, _all_paths(data))
                    raise ConfigError(path, str(err))
                if dataclasses.is_dataclass(ftp):
                    tp = ftp
                elif typing.get_origin(ftp) is dict or ftp is dict:
                    free = True
                elif not last:
                    raise ConfigError(path, f"`{p}` is not a section of this config")
            if last:
                node[p] = value
            else:
                if node.get(p) is None:
                    node[p] = {}
                if not isinstance(node[p], dict):
                    raise ConfigError(path, f"`{p}` is not a section of this config")
                node = node[p]
    return from_dict(type(cfg), data)


def _all_paths(d: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k, v in d.items():
        out.append(prefix + k)
        if isinstance(v, dict):
            out.extend(_all_paths(v, prefix + k + "."))
    return out


def load_file(cls: type[C], path: str | Path) -> C:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(str(path), "config file not found")
    text = p.read_text()
    data = tomllib.loads(text) if p.suffix == ".toml" else json.loads(text)
    return from_dict(cls, data)


def validate(cfg: Any) -> Any:
    """Run `validate()` on the config and every nested config that defines it."""
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        if dataclasses.is_dataclass(v):
            validate(v)
    check = getattr(cfg, "validate", None)
    if callable(check):
        check()
    return cfg
