from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

from uvc_data.configurable import apply_overrides, from_dict, validate
from uvc_data.errors import ConfigError


@dataclass
class Inner:
    width: int = 832
    mode: Literal["crop", "pad"] = "crop"

    def validate(self):
        if self.width % 2:
            raise ConfigError("inner.width", "must be even for H.264")


@dataclass
class Outer:
    inner: Inner = field(default_factory=Inner)
    tasks: list[str] = field(default_factory=lambda: ["depth"])
    rate: float = 1.0
    name: str | None = None


def test_from_dict_and_overrides():
    cfg = from_dict(Outer, {"inner": {"width": 640}, "tasks": ["gray", "flow"]})
    assert cfg.inner.width == 640 and cfg.tasks == ["gray", "flow"]
    cfg = apply_overrides(cfg, ["inner.mode=pad", "rate=2", "tasks=depth,pose", "name=x"])
    assert cfg.inner.mode == "pad" and cfg.rate == 2.0 and cfg.tasks == ["depth", "pose"] and cfg.name == "x"


def test_errors_name_the_field():
    with pytest.raises(ConfigError, match="inner.widht.*Did you mean 'inner.width'"):
        from_dict(Outer, {"inner": {"widht": 3}})
    with pytest.raises(ConfigError, match="inner.mode"):
        from_dict(Outer, {"inner": {"mode": "zoom"}})
    with pytest.raises(ConfigError, match="rate"):
        apply_overrides(Outer(), ["rate=fast"])
    with pytest.raises(ConfigError, match="inner.width"):
        validate(from_dict(Outer, {"inner": {"width": 641}}))


@dataclass
class WithOptions:
    inner: Inner = field(default_factory=Inner)
    options: dict[str, Any] = field(default_factory=dict)


def test_overrides_create_keys_below_free_form_dicts_only():
    cfg = apply_overrides(WithOptions(), ["options.depth.weights=/models/da", "options.flow.scale=0.5"])
    assert cfg.options == {"depth": {"weights": "/models/da"}, "flow": {"scale": 0.5}}
    with pytest.raises(ConfigError, match="Did you mean 'inner.width'"):
        apply_overrides(WithOptions(), ["inner.widht=4"])
    with pytest.raises(ConfigError, match="not a section"):
        apply_overrides(WithOptions(), ["inner.width.x=4"])
