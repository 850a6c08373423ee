"""Typed configs: the one resolver of `uvc data`, `uvc train` and `uvc bench`, and the build fingerprint.

`resolve(base, file, overrides)`: a recipe (a dataclass instance) → a TOML/JSON file merged over it (sections
recursively, values replaced) → `--set a.b.c=value` overrides → the validated dataclass. Every value is coerced by
its field's declared type: a str field takes the text as written (`--set name=2025` is "2025"), `null` clears an
Optional field, a Path field gets a Path, lists take JSON or comma-separated text, numbers and booleans parse.
Unknown keys are rejected with the full dotted path and a "did you mean"; a wrong value names the `--set` that gave
it; `validate()` on a config class does the cross-field checks and raises ConfigError naming the field to change.

Why hand-written rather than pydantic or tyro: the configs are plain dataclasses shared by every package, with
`validate()` methods for the cross-field checks. pydantic would mean rewriting them as models (or wrapping each in a
TypeAdapter), and its lax mode still refuses `2025` for a str field and suggests no names; tyro turns every field
into its own flag (`--split.decode.width`) rather than the recipe → file → `--set` layering the recipes are built
on, and is one more dependency. The layer below is ~300 lines and owns exactly these rules.

`fingerprint(cfg)`: what decides a build's output, from field metadata: fields declared with `neutral(...)`
(thread counts of decoders, prefetch depths, packing limits, executors) are left out, everything else is in.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
import types
import typing
from pathlib import Path, PurePath
from typing import Any, Sequence, TypeVar

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
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:  # Optional[X]: X's own message
            return _coerce(value, rest[0], where)
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
    if isinstance(tp, type) and issubclass(tp, PurePath):
        if isinstance(value, (str, PurePath)):
            return tp(value)
        raise ConfigError(where, f"expected a path, got {value!r}")
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


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    """(the type without None, whether None is allowed)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        rest = [a for a in args if a is not type(None)]
        optional = len(rest) < len(args)
        if len(rest) == 1:
            return rest[0], optional
        return typing.Union[tuple(rest)], optional  # type: ignore[return-value]
    return tp, False


def field_paths(cls: Any, prefix: str = "") -> list[str]:
    """Every dotted field path of dataclass `cls`, sections included (for "did you mean")."""
    out = []
    for name, ftp in typing.get_type_hints(cls).items():
        if name not in {f.name for f in dataclasses.fields(cls)}:
            continue
        out.append(prefix + name)
        inner = _unwrap_optional(ftp)[0]
        if dataclasses.is_dataclass(inner):
            out.extend(field_paths(inner, prefix + name + "."))
    return out


_NULLS = ("null", "none", "None", "~")


def parse_value(raw: str, tp: Any, where: str) -> Any:
    """The text of one `--set` value → a Python value for a field of type `tp` (then checked by _coerce).

    str and Literal-of-str fields take the text as written (a JSON-quoted "text" loses its quotes); `null` (or none/~) is None for an Optional field;
    Path fields a Path; list/tuple fields a JSON list or comma-separated text; dict and section fields JSON;
    everything else JSON when it parses, else the text."""
    base, optional = _unwrap_optional(tp)
    text = raw.strip()
    if optional and text in _NULLS:
        return None
    if base is str or (typing.get_origin(base) is typing.Literal and all(isinstance(a, str)
                                                                          for a in typing.get_args(base))):
        if len(text) >= 2 and text[0] == text[-1] == '"':  # a JSON string, as older scripts write it
            try:
                return str(json.loads(text))
            except json.JSONDecodeError:
                pass
        return raw
    if isinstance(base, type) and issubclass(base, PurePath):
        return base(raw)
    origin = typing.get_origin(base)
    if origin in (list, tuple) and not text.startswith("["):
        return [v.strip() for v in text.split(",") if v.strip() != ""]
    if origin is dict or base is dict or dataclasses.is_dataclass(base):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(where, f"expected a JSON table such as {{\"key\": 1}}, got {raw!r} ({exc.msg})") from None
        return value
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return raw


def _message(exc: ConfigError) -> str:
    return str(exc).split("`: ", 1)[-1]


def _from_set(exc: ConfigError, path: str, raw: str, flag: str) -> ConfigError:
    """The error, naming the `--set` that gave the value."""
    err = ConfigError(path, _message(exc))
    err.args = (f"config field `{path}` (from `{flag} {path}={raw}`): {_message(exc)}",)
    return err


def apply_overrides(cfg: C, overrides: Sequence[str], flag: str = "--set", section: str = "") -> C:
    """Apply `a.b.c=value` overrides, each value parsed and checked by its field's type (parse_value).

    `section`: the overrides are written `<section>.a.b=value` (e.g. "generate." for the bench's generation config);
    the prefix is stripped and kept in messages. Below a field typed as a dict (free-form options such as
    `annotator_options`), keys may be created: `annotator_options.depth.weights=/models/da` makes
    {"depth": {"weights": "/models/da"}}; their values are JSON when they parse, else text."""
    cls = type(cfg)
    data = to_dict(cfg)
    known = [section + p for p in field_paths(cls)]
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"{flag} {item}", "an override is written key.path=value")
        full, raw = item.split("=", 1)
        full = full.strip()
        path = full[len(section):] if section and full.startswith(section) else full
        parts = path.split(".")
        try:
            _apply_one(data, cls, parts, raw, full, known)
        except ConfigError as exc:
            raise _from_set(exc, full, raw, flag) from None
    return from_dict(cls, data)


def _apply_one(data: dict[str, Any], cls: Any, parts: list[str], raw: str, full: str, known: list[str]) -> None:
    """Set one override's value into `data` (to_dict form), checked against the declared types."""
    node, tp, free = data, cls, False
    for i, p in enumerate(parts):
        last = i == len(parts) - 1
        ftp: Any = None
        if not free:
            hints = typing.get_type_hints(tp)
            if p not in hints:
                raise ConfigError(full, str(UnknownNameError("config field", full, known)))
            ftp = hints[p]
            inner = _unwrap_optional(ftp)[0]
            if dataclasses.is_dataclass(inner) and not last:
                tp = inner
            elif typing.get_origin(inner) is dict or inner is dict:
                free = True
            elif not last:
                raise ConfigError(full, f"`{p}` is not a section of this config")
        if last:
            if free and ftp is None:
                try:
                    node[p] = json.loads(raw)
                except json.JSONDecodeError:
                    node[p] = raw
            else:
                value = parse_value(raw, ftp, full)
                node[p] = to_dict_value(_coerce(value, ftp, full))
        else:
            if node.get(p) is None:
                node[p] = {}
            if not isinstance(node[p], dict):
                raise ConfigError(full, f"`{p}` is not a section of this config")
            node = node[p]


def to_dict_value(value: Any) -> Any:
    """A coerced value back in the form to_dict gives (dataclasses as dicts, paths as text)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_dict(value)
    return json.loads(json.dumps(value, default=str))


def merge(cls: Any, base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """`top` over `base`: sections (dataclass-typed fields) merged recursively, every other value replaced
    (a free-form dict given in a file replaces the recipe's, it is not mixed with it)."""
    out = dict(base)
    hints = typing.get_type_hints(cls) if dataclasses.is_dataclass(cls) else {}
    for k, v in top.items():
        inner = _unwrap_optional(hints[k])[0] if k in hints else None
        if dataclasses.is_dataclass(inner) and isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(inner, out[k], v)
        else:
            out[k] = v
    return out


def read_file(path: str | Path, flag: str = "--config") -> dict[str, Any]:
    """A TOML or JSON config file → its table (ConfigError naming `flag` when missing or malformed)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(flag, f"config file {p} not found")
    try:
        data = tomllib.loads(p.read_text()) if p.suffix == ".toml" else json.loads(p.read_text())
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(flag, f"{p} is not valid {'TOML' if p.suffix == '.toml' else 'JSON'}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(flag, f"{p} must hold a table of config fields")
    return data


def _in_file(exc: ConfigError, where: str) -> ConfigError:
    """The same error, saying which file gave the value."""
    err = ConfigError(exc.field, _message(exc))
    err.args = (f"config field `{exc.field}` (in `{where}`): {_message(exc)}",)
    return err


def resolve(base: C, file: str | Path | None = None, overrides: Sequence[str] = (), *, file_flag: str = "--config",
            set_flag: str = "--set", section: str = "", check: bool = True) -> C:
    """recipe (`base`) → `file` merged over it → `overrides` → validated (unless check=False). The one path from
    command-line configuration to a typed config."""
    cfg = base
    if file:
        data = read_file(file, file_flag)
        try:
            cfg = from_dict(type(base), merge(type(base), to_dict(base), data))
        except ConfigError as exc:
            raise _in_file(exc, f"{file_flag} {file}") from None
    cfg = apply_overrides(cfg, overrides, set_flag, section)
    return validate(cfg) if check else cfg


def load_file(cls: type[C], path: str | Path, flag: str = "--config") -> C:
    try:
        return from_dict(cls, read_file(path, flag))
    except ConfigError as exc:
        if exc.field == flag:
            raise
        raise _in_file(exc, f"{flag} {path}") from None


NEUTRAL = "uvc.neutral"  # field metadata key: why the field never changes what a build produces


def neutral(why: str, **field_kwargs: Any) -> Any:
    """A dataclass field that never changes the output (a thread count, a prefetch depth, a packing limit, who
    executes): `fingerprint` leaves it out, so changing it never invalidates a resumable build. `why` says why;
    the other arguments are dataclasses.field's (default=..., default_factory=...)."""
    return dataclasses.field(metadata={NEUTRAL: why}, **field_kwargs)


def fingerprint_data(cfg: Any) -> Any:
    """The part of `cfg` that decides the output: every field but the neutral ones, recursively, as plain JSON
    values (free-form dicts whole)."""
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        return {f.name: fingerprint_data(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)
                if NEUTRAL not in f.metadata}
    return to_dict_value(cfg)


def fingerprint(cfg: Any, **extra: Any) -> str:
    """16 hex of SHA-256 over fingerprint_data(cfg) and `extra` (e.g. a schema version): the one place a config's
    output identity is computed (the build's out dir records it and refuses a different one on resume)."""
    data = {"config": fingerprint_data(cfg), **{k: to_dict_value(v) for k, v in extra.items()}}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


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
