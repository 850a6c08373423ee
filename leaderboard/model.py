"""The leaderboard's own view of one results file: what the tables and plots need, nothing more.

Only `leaderboard.adapter` reads the results schema (uvc_bench.results) and builds these; every other module of the
leaderboard reads these types, so a schema change touches one file.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DimValue:
    """One VBench dimension as scored: raw value on VBench's scale (a fraction), its normalised score, and the metric
    backend that produced it. Values from different backends are never compared in one column."""

    raw: float
    normalized: float | None
    backend: str


@dataclass(frozen=True)
class TaskView:
    """One task of a run: its Normalized Average (%), dimensions, condition-fidelity measures and case count."""

    task: str
    na: float | None
    na_dimensions: tuple[str, ...] = ()
    dimensions: dict[str, DimValue] = field(default_factory=dict)
    fidelity: dict[str, float] = field(default_factory=dict)
    num_cases: int = 0
    num_scored: int = 0


@dataclass(frozen=True)
class CaseRef:
    """One case of a run, as far as the gallery needs it: where its output lies (`<subtask>/<sample_id>.mp4` next
    to the results file) and whether it was generated."""

    case_id: str
    subtask: str
    sample_id: str
    task: str
    status: str


@dataclass(frozen=True)
class Entry:
    """One run of one model with one set of settings (one results file).

    settings: the settings that tell runs of one model apart (steps, guidance, shift, seed, size, the model's own).
    na_convention: "vace" (÷ n) or "vbench" (÷ Σ w); NAs of different conventions never share a column.
    na_dimensions: the dimensions the overall NA averages (their backends are in `dimensions`).
    suite: the suite's hash; overall NAs of different suites never share a column.
    case_reading: how the cases were read (results generation.case_reading; schema 1 files: "first_frames_resized").
    details: everything else worth showing on the model page, as titled sections of name → text.
    cases, suite_root: the run's cases and the suite folder it was scored on, for the gallery.
    """

    model: str
    settings: dict[str, str | int | float | bool | None]
    nfe: int | None
    seconds_per_video: float | None
    na: float | None
    na_convention: str
    na_dimensions: tuple[str, ...]
    dimensions: dict[str, DimValue]
    tasks: dict[str, TaskView]
    source: str
    suite: str = ""
    details: dict[str, dict[str, str]] = field(default_factory=dict)
    cases: tuple[CaseRef, ...] = ()
    suite_root: str = ""
    case_reading: str = "vace_keep_last"  # how the run read its cases; other readings never share an NA column

    @property
    def sort_key(self) -> tuple:
        """Deterministic order: model, then NFE, then the settings' text, then the source path."""
        return (self.model, self.nfe if self.nfe is not None else -1,
                sorted((k, str(v)) for k, v in self.settings.items()), self.source)
