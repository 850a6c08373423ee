"""The typed, versioned UVCBench results file — the only thing the leaderboard reads (as lm-evaluation-harness's
result_schema.py). Written by `uvc bench score`, checked by `validate_results` (uvc_bench.results_validate).

Layout (schema_version "uvcbench-results/1"; JSON keys are the dataclass fields):
  model        name, settings (all of them), steps / guidance / shift (null where a model has none)
  generation   seed, height, width, num_frames, fps
  suite        hash (sha256 of indices + files), root, num_cases
  metrics      dimensions, backends {dim: backend}, missing {dim: why}, fallbacks, na_convention ("vace"|"vbench"),
               na_overall ("mean_of_tasks")
  cases[]      per case: status, dimensions {dim: {raw, normalized, backend}}, fidelity {measure: value},
               fidelity_skipped, seconds (generation wall time), error
  tasks{}      per subtask: num_cases, num_scored, dimensions {dim: {raw, normalized, backend}}, na, na_dimensions,
               fidelity (mean over scored cases)
  overall      dimensions over all scored cases, na (mean of the task NAs), na_dimensions
  timings      generation seconds per video (median, total, count), scoring seconds
Per-case `raw` is VBench's per-video value (imaging_quality 0–100, dynamic_degree 0/1); task and overall `raw` are
VBench's suite aggregates (imaging_quality /100); `normalized` is (raw·scale − min)/(max − min), not clipped.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = "uvcbench-results/1"
SUPPORTED_VERSIONS = (SCHEMA_VERSION,)
CASE_STATUSES = ("ok", "failed", "missing")


def toolkit_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("uvc-toolkit")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass
class DimValue:
    raw: float
    normalized: float
    backend: str


@dataclass
class ModelInfo:
    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    steps: int | None = None  # NFE per video
    guidance: float | None = None
    shift: float | None = None


@dataclass
class GenerationInfo:
    seed: int
    height: int
    width: int
    num_frames: int
    fps: float


@dataclass
class SuiteInfo:
    hash: str
    root: str
    num_cases: int


@dataclass
class MetricsInfo:
    dimensions: list[str]
    backends: dict[str, str]
    missing: dict[str, str] = field(default_factory=dict)
    fallbacks: dict[str, str] = field(default_factory=dict)
    na_convention: str = "vace"
    na_overall: str = "mean_of_tasks"


@dataclass
class CaseResult:
    case_id: str
    subtask: str
    sample_id: str
    task: str
    status: str  # ok | failed (generation failed) | missing (no video to score)
    dimensions: dict[str, DimValue] = field(default_factory=dict)
    fidelity: dict[str, float] = field(default_factory=dict)
    fidelity_skipped: dict[str, str] = field(default_factory=dict)
    seconds: float | None = None
    error: str | None = None


@dataclass
class TaskResult:
    subtask: str
    task: str
    num_cases: int
    num_scored: int
    dimensions: dict[str, DimValue] = field(default_factory=dict)
    na: float | None = None
    na_dimensions: list[str] = field(default_factory=list)
    fidelity: dict[str, float] = field(default_factory=dict)


@dataclass
class OverallResult:
    dimensions: dict[str, DimValue] = field(default_factory=dict)
    na: float | None = None
    na_dimensions: list[str] = field(default_factory=list)
    num_cases: int = 0
    num_scored: int = 0


@dataclass
class Timings:
    seconds_per_video: float | None = None  # MEDIAN generation wall time over the videos that have one (robust to
    # the one-off warm-up of a process's first generation: first torch ops, lazy inits)
    generation_seconds: float | None = None  # sum of those
    timed_videos: int = 0
    scoring_seconds: float = 0.0


@dataclass
class Results:
    model: ModelInfo
    generation: GenerationInfo
    suite: SuiteInfo
    metrics: MetricsInfo
    cases: list[CaseResult] = field(default_factory=list)
    tasks: dict[str, TaskResult] = field(default_factory=dict)
    overall: OverallResult = field(default_factory=OverallResult)
    timings: Timings = field(default_factory=Timings)
    schema_version: str = SCHEMA_VERSION
    toolkit_version: str = field(default_factory=toolkit_version)
    created: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _dims(d: dict[str, Any]) -> dict[str, DimValue]:
    return {k: DimValue(**v) for k, v in d.items()}


def results_from_dict(data: dict[str, Any]) -> Results:
    """A validated results dict → Results (raises BadInputError with every problem when invalid)."""
    from uvc_bench.results_validate import validate_results

    validate_results(data)
    cases = [CaseResult(**{**c, "dimensions": _dims(c["dimensions"])}) for c in data["cases"]]
    tasks = {k: TaskResult(**{**t, "dimensions": _dims(t["dimensions"])}) for k, t in data["tasks"].items()}
    overall = OverallResult(**{**data["overall"], "dimensions": _dims(data["overall"]["dimensions"])})
    return Results(model=ModelInfo(**data["model"]), generation=GenerationInfo(**data["generation"]),
                   suite=SuiteInfo(**data["suite"]), metrics=MetricsInfo(**data["metrics"]), cases=cases,
                   tasks=tasks, overall=overall, timings=Timings(**data["timings"]),
                   schema_version=data["schema_version"], toolkit_version=data["toolkit_version"],
                   created=data["created"])


def load_results(path: str) -> Results:
    import json
    from pathlib import Path

    from uvc_data.errors import BadInputError

    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInputError(f"cannot read results file {p}: {exc}") from exc
    return results_from_dict(data)
