"""Task definitions as data, a registry with official-name aliases, and the official substring routing."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

from uvc_data.errors import ConfigError, UnknownNameError

# Control videos an annotator produces (V2V family); keys of Sample.conditions.
CONTROL_CONDITIONS = ("depth", "pose", "flow", "scribble", "gray")


class Family(str, enum.Enum):
    """VCU task families of method.md: how F and M are laid out."""

    T2V = "t2v"  # F zeros, M ones
    R2V = "r2v"  # reference images prepended, then zeros / ones
    V2V = "v2v"  # F control video, M ones
    MV2V = "mv2v"  # F source video with gray holes, M = holes


@dataclass(frozen=True)
class TaskDef:
    """One task. `build` in uvc_data.vcu reads only these fields.

    name: canonical name (lower case). aliases: official spellings accepted on input.
    control: the control condition (a CONTROL_CONDITIONS key) shown in the frames to generate, if any.
    references: reference images are prepended (R2V and reference+X).
    keep: which source pixels are kept (mask 0) — "first_frame" (extension / firstframe+X), "inside" (outpainting:
      the centre region is kept, the expanded border generated), "outside_mask" (inpainting: the mask region is
      generated), or None.
    bench: part of the 18 UVCBench tasks. compound: a compound UVCBench task.
    """

    name: str
    family: Family
    description: str
    control: str | None = None
    references: bool = False
    keep: str | None = None
    bench: bool = True
    compound: bool = False
    aliases: tuple[str, ...] = ()
    # What the official index provides for this task (UVCBench JSON lines).
    index_fields: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.control is not None and self.control not in CONTROL_CONDITIONS:
            raise ConfigError("control", f"task {self.name!r}: {self.control!r} is not one of {CONTROL_CONDITIONS}")
        if self.keep not in (None, "first_frame", "inside", "outside_mask"):
            raise ConfigError("keep", f"task {self.name!r}: unknown keep rule {self.keep!r}")

    @property
    def needs(self) -> tuple[str, ...]:
        """Sample.conditions keys this task needs beyond the clip itself."""
        out: list[str] = []
        if self.control:
            out.append(self.control)
        if self.references:
            out.append("ref_images")
        if self.keep == "inside":
            out.append("outpaint_mask")
        if self.keep == "outside_mask":
            out.append("inpaint_mask")
        return tuple(out)


_TASKS: dict[str, TaskDef] = {}
_ALIASES: dict[str, str] = {}


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "+").replace(" ", "")


def register(task: TaskDef) -> TaskDef:
    key = _norm(task.name)
    if key in _TASKS or key in _ALIASES:
        raise ConfigError("name", f"task {task.name!r} is registered twice")
    _TASKS[key] = task
    for alias in task.aliases:
        a = _norm(alias)
        if a == key:
            continue
        if a in _TASKS or (a in _ALIASES and _ALIASES[a] != key):
            raise ConfigError("aliases", f"alias {alias!r} of {task.name!r} already names another task")
        _ALIASES[a] = key
    return task


def get_task(name: str) -> TaskDef:
    """Look a task up by canonical name or official alias (case-insensitive); unknown → 'did you mean'."""
    key = _norm(name)
    key = _ALIASES.get(key, key)
    if key not in _TASKS:
        raise UnknownNameError("task", name, list(_TASKS))
    return _TASKS[key]


def all_tasks() -> list[TaskDef]:
    return list(_TASKS.values())


def bench_tasks() -> list[TaskDef]:
    return [t for t in _TASKS.values() if t.bench]


def route_official_subtask(subtask: str) -> str:
    """What the official UVCBench inference code feeds the model for a subtask name (substring routing).

    Returns one of "ref_only", "video_and_ref", "video_and_mask", "text_only", "video_only".
    """
    if "R2v" in subtask or subtask.lower() == "r2v":
        return "ref_only"
    if "reference+" in subtask:
        return "video_and_ref"
    if any(s in subtask for s in ("firstframe", "extension", "outpainting")):
        return "video_and_mask"
    if "T2V" in subtask or subtask.lower() == "t2v":
        return "text_only"
    return "video_only"
