"""Named presets: the settings of the official runs, for the `diffusers` and `vdot` adapters (uvcbench.md, "How the
official inference reads a case"). A preset is a starting point; --model-config and --set override it, and results
record its name (model.preset) next to every setting actually used.

- `vace-teacher`: the VACE-Wan teacher as VDOT's scripts sample it — UniPC, shift 16, 50 steps, guidance 5, Wan's
  standard negative prompt (what an empty negative prompt becomes there), seed 2025.
- `vdot-student`: the 4-step VDOT generator — UniPC, shift 16, 4 steps, guidance 1 (no CFG), seed 2025.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from uvc_data.errors import ConfigError, UnknownNameError
from uvc_data.prompts import WAN_NEGATIVE_PROMPT

OFFICIAL_SEED = 2025


@dataclass(frozen=True)
class Preset:
    name: str
    models: tuple[str, ...]  # the adapters it applies to
    settings: dict[str, Any] = field(default_factory=dict)
    seed: int = OFFICIAL_SEED
    what: str = ""


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("vace-teacher", ("diffusers", "vdot"),
           {"scheduler": "unipc", "shift": 16.0, "steps": 50, "guidance": 5.0, "negative_prompt": WAN_NEGATIVE_PROMPT},
           what="official VACE teacher run: UniPC, shift 16, 50 steps, guidance 5, Wan's negative prompt, seed 2025"),
    Preset("vdot-student", ("diffusers", "vdot"),
           {"scheduler": "unipc", "shift": 16.0, "steps": 4, "guidance": 1.0, "negative_prompt": WAN_NEGATIVE_PROMPT},
           what="official VDOT student run: UniPC, shift 16, 4 steps, guidance 1, seed 2025"),
)}


def get_preset(name: str, model: str) -> Preset:
    if name not in PRESETS:
        raise UnknownNameError("preset", name, list(PRESETS))
    p = PRESETS[name]
    if model not in p.models:
        raise ConfigError("preset", f"preset {name!r} is for the {' / '.join(p.models)} adapters, not {model!r}")
    return p
