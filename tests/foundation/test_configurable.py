from dataclasses import dataclass, field
from typing import Literal

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
