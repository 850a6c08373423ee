"""A registry of named steps (annotators, filters), each built from its own typed config.

`build(name, options)` loads `options` into the step's config class (uvc_data.configurable: unknown keys and wrong
types name the field), runs `validate()`, and builds the step. Unknown names answer with "did you mean".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, Mapping, TypeVar

from uvc_data.configurable import from_dict, validate
from uvc_data.errors import ConfigError, UnknownNameError

S = TypeVar("S")


@dataclass(frozen=True)
class Entry(Generic[S]):
    name: str
    cls: type[S]
    config_cls: type


class Registry(Generic[S]):
    """Name → (step class, config class). `kind` is used in error messages ("annotator", "filter")."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[S]] = {}

    def register(self, name: str, config_cls: type) -> Callable[[type[S]], type[S]]:
        def deco(cls: type[S]) -> type[S]:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice: rename one of them")
            self._entries[name] = Entry(name, cls, config_cls)
            return cls

        return deco

    def names(self) -> list[str]:
        return sorted(self._entries)

    def get(self, name: str) -> Entry[S]:
        if name not in self._entries:
            raise UnknownNameError(self.kind, name, self.names())
        return self._entries[name]

    def config(self, name: str, options: Mapping[str, Any] | None = None) -> Any:
        """The validated config of `name` from a dict of options (defaults for what is not given)."""
        entry = self.get(name)
        return self._validated(name, from_dict(entry.config_cls, dict(options or {}), prefix=f"{name}."))

    @staticmethod
    def _validated(name: str, cfg: Any) -> Any:
        """validate(), with the step's name prefixed to the field a cross-field check names."""
        try:
            return validate(cfg)
        except ConfigError as exc:
            if exc.field.startswith(f"{name}."):
                raise
            message = str(exc).split(": ", 1)[-1]
            raise ConfigError(f"{name}.{exc.field}", message) from exc

    def build(self, name: str, options: Mapping[str, Any] | Any | None = None) -> S:
        """Build step `name` from a dict of options or from an instance of its config class."""
        entry = self.get(name)
        cfg = self._validated(name, options) if isinstance(options, entry.config_cls) else self.config(name, options)
        return entry.cls(cfg)  # type: ignore[call-arg]


ANNOTATORS: Registry[Any] = Registry("annotator")
