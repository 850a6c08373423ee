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


# ------------------------------------------------------------------ the one resolver: recipe → file → --set → validated

from pathlib import Path  # noqa: E402

from uvc_data.configurable import fingerprint, neutral, resolve  # noqa: E402


@dataclass
class Run:
    name: str = "run"
    tag: str | None = "a"
    steps: int | None = 10
    out_dir: Path = Path("runs/x")
    weights: Path | None = None
    inner: Inner = field(default_factory=Inner)
    options: dict[str, Any] = field(default_factory=dict)
    tasks: list[str] = field(default_factory=lambda: ["depth"])
    threads: int = neutral("a thread count never changes the output", default=2)


def test_values_are_coerced_by_the_field_type():
    cfg = resolve(Run(), overrides=["name=2025", "tag=null", "steps=null", "out_dir=/data/out", "weights=w.safetensors",
                                    "tasks=[\"gray\", \"flow\"]", "inner.mode=pad"])
    assert cfg.name == "2025" and cfg.tag is None and cfg.steps is None
    assert cfg.out_dir == Path("/data/out") and isinstance(cfg.out_dir, Path)
    assert cfg.weights == Path("w.safetensors") and cfg.tasks == ["gray", "flow"] and cfg.inner.mode == "pad"
    # a non-optional str field keeps the text "null"; a later override keeps the earlier Path a Path
    cfg = resolve(cfg, overrides=["name=null", "steps=4"])
    assert cfg.name == "null" and cfg.steps == 4 and isinstance(cfg.out_dir, Path) and cfg.tag is None
    assert resolve(Run(), overrides=['name="quoted"', "tag=x=y"]).name == "quoted"
    assert resolve(Run(), overrides=["tag=x=y"]).tag == "x=y"  # only the first = splits


def test_set_errors_name_the_full_set_path():
    with pytest.raises(ConfigError) as exc:
        resolve(Run(), overrides=["inner.widht=3"])
    assert "--set inner.widht=3" in str(exc.value) and "Did you mean 'inner.width'" in str(exc.value)
    with pytest.raises(ConfigError, match=r"`steps` \(from `--set steps=many`\): expected an integer"):
        resolve(Run(), overrides=["steps=many"])
    with pytest.raises(ConfigError, match="--set inner.mode=zoom"):
        resolve(Run(), overrides=["inner.mode=zoom"])
    with pytest.raises(ConfigError, match="generate.sed.*Did you mean 'generate.seed'"):
        resolve(_Gen(), overrides=["generate.sed=1"], section="generate.")
    with pytest.raises(ConfigError, match="inner.width"):  # validate() ran
        resolve(Run(), overrides=["inner.width=641"])
    assert resolve(Run(), overrides=["inner.width=641"], check=False).inner.width == 641


@dataclass
class _Gen:
    seed: int = 2025
    crf: int = 12


def test_section_prefix():
    assert resolve(_Gen(), overrides=["generate.seed=7", "generate.crf=18"], section="generate.") == _Gen(7, 18)


def test_file_merges_sections_and_replaces_values(tmp_path):
    f = tmp_path / "run.toml"
    f.write_text('name = "from-file"\nout_dir = "/x"\n[inner]\nmode = "pad"\n[options.depth]\nweights = "/m"\n')
    base = Run(inner=Inner(width=640), options={"flow": {"scale": 0.5}})
    cfg = resolve(base, f, ["name=cli"])
    assert cfg.name == "cli"  # --set wins over the file
    assert cfg.inner == Inner(width=640, mode="pad")  # a section: merged
    assert cfg.options == {"depth": {"weights": "/m"}}  # a free-form table: replaced, not mixed
    assert cfg.out_dir == Path("/x")
    f.write_text('[inner]\nwidht = 3\n')
    with pytest.raises(ConfigError, match=r"inner.widht.*in `--config .*run.toml`.*Did you mean 'inner.width'"):
        resolve(Run(), f)
    with pytest.raises(ConfigError, match="not found"):
        resolve(Run(), tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("name = ")
    with pytest.raises(ConfigError, match="not valid TOML"):
        resolve(Run(), tmp_path / "bad.toml")


def test_fingerprint_leaves_out_neutral_fields_only():
    base = fingerprint(Run())
    assert fingerprint(Run(threads=16)) == base
    assert fingerprint(Run(inner=Inner(width=640))) != base
    assert fingerprint(Run(options={"a": 1})) != base
    assert fingerprint(Run(), schema="v1") != fingerprint(Run(), schema="v2")
    assert len(base) == 16 and fingerprint(Run()) == base
