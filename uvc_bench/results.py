"""The typed, versioned UVCBench results file — the only thing the leaderboard reads (as lm-evaluation-harness's
result_schema.py). Written by `uvc bench score`, checked by `validate_results` (uvc_bench.results_validate).

Layout (schema_version "uvcbench-results/2"; JSON keys are the dataclass fields):
  model        name, preset (null = none), settings (all of them), steps / guidance / shift (null where none)
  generation   seed, height / width / num_frames (0 = per case, as the official inference reads it), fps,
               case_reading ("vace_keep_last"; files of schema 1 read back as "first_frames_resized"), default_* (the
               shape of cases without a source video)
  suite        hash (sha256 of indices + files), root, num_cases
  metrics      dimensions, backends {dim: backend}, missing {dim: why}, fallbacks, na_convention ("vbench"|"vace"),
               na_overall ("mean_of_tasks")
  cases[]      per case: status, dimensions {dim: {raw, normalized, backend}}, fidelity {measure: value},
               fidelity_skipped, seconds (generation wall time), error, video (sha256, frames, size, fps; null when
               there is none)
  tasks{}      per subtask: num_cases, num_scored, dimensions {dim: {raw, normalized, backend}}, na, na_dimensions,
               na_backends {dim: backend} and na_num_dimensions (what the NA covers), fidelity (mean over scored cases)
  overall      dimensions over all scored cases, na (mean of the task NAs), na_dimensions, na_backends,
               na_num_dimensions
  timings      generation seconds per video (median, total, count), scoring seconds
  provenance   toolkit version and git commit, command line, library versions (torch, transformers, diffusers,
               PyAV, FFmpeg, numpy, python), scoring device / dtype / batch size, SHA-256 of every metric weight file
Schema 1 files (NA by default ÷ n, cases read as their first frames resized) are read through `upgrade_v1`: their
numbers keep their meaning (the convention they declare, case_reading "first_frames_resized") and the leaderboard
shows them apart from schema 2 runs.
Per-case `raw` is VBench's per-video value (imaging_quality 0–100, dynamic_degree 0/1); task and overall `raw` are
VBench's suite aggregates (imaging_quality /100); `normalized` is (raw·scale − min)/(max − min), not clipped.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = "uvcbench-results/2"
SCHEMA_V1 = "uvcbench-results/1"
SUPPORTED_VERSIONS = (SCHEMA_VERSION, SCHEMA_V1)
LEGACY_READING = "first_frames_resized"  # how schema 1 read a case: its first frames, stretched to the working size
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
    preset: str | None = None  # the named preset the run started from (uvc_bench.models.presets), if any


@dataclass
class GenerationInfo:
    seed: int
    height: int  # 0 = per case (official reading)
    width: int
    num_frames: int
    fps: float
    case_reading: str = "vace_keep_last"
    default_height: int = 480
    default_width: int = 832
    default_frames: int = 81


@dataclass
class VideoInfo:
    """A scored video file: its SHA-256, frames, size and own frame rate."""

    sha256: str
    num_frames: int
    height: int
    width: int
    fps: float


@dataclass
class Provenance:
    toolkit_version: str = "0+unknown"
    git_commit: str = "unknown"
    command: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)  # torch, transformers, diffusers, av, ffmpeg, numpy, python
    device: str = "unknown"  # scoring device
    dtype: str = "unknown"  # scoring dtype of the metric networks
    batch_size: int = 0
    weights: dict[str, str] = field(default_factory=dict)  # metric weight file (relative to weights_dir) → sha256


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
    na_convention: str = "vbench"
    na_overall: str = "mean_of_tasks"


def _fill_cover(node: Any) -> None:
    """An NA entry built in code says what it covers: the backends and count of its na_dimensions."""
    if node.na_dimensions and not node.na_backends:
        node.na_backends = {d: node.dimensions[d].backend for d in node.na_dimensions if d in node.dimensions}
    if node.na_dimensions and not node.na_num_dimensions:
        node.na_num_dimensions = len(node.na_dimensions)


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
    video: VideoInfo | None = None


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
    na_backends: dict[str, str] = field(default_factory=dict)  # derived from na_dimensions when left empty
    na_num_dimensions: int = 0  # derived from na_dimensions when left 0

    def __post_init__(self) -> None:
        _fill_cover(self)


@dataclass
class OverallResult:
    dimensions: dict[str, DimValue] = field(default_factory=dict)
    na: float | None = None
    na_dimensions: list[str] = field(default_factory=list)
    num_cases: int = 0
    num_scored: int = 0
    na_backends: dict[str, str] = field(default_factory=dict)  # derived from na_dimensions when left empty
    na_num_dimensions: int = 0  # derived from na_dimensions when left 0

    def __post_init__(self) -> None:
        _fill_cover(self)


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
    provenance: Provenance = field(default_factory=Provenance)
    schema_version: str = SCHEMA_VERSION
    toolkit_version: str = field(default_factory=toolkit_version)
    created: float = field(default_factory=time.time)
    upgraded_from: str | None = None  # "uvcbench-results/1" when read from an older file (not written by score)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _dims(d: dict[str, Any]) -> dict[str, DimValue]:
    return {k: DimValue(**v) for k, v in d.items()}


def _na_cover(node: dict[str, Any], backends: dict[str, str]) -> None:
    node.setdefault("na_backends", {d: backends.get(d, "") for d in node.get("na_dimensions", [])})
    node.setdefault("na_num_dimensions", len(node.get("na_dimensions", [])))


def upgrade_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A schema 1 results dict → schema 2, meaning kept: the NA convention it declares, case_reading
    "first_frames_resized", provenance unknown except its toolkit version. Other dicts are returned as they are."""
    import copy

    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_V1:
        return data
    d = copy.deepcopy(data)
    d["schema_version"] = SCHEMA_VERSION
    d["upgraded_from"] = SCHEMA_V1
    if isinstance(d.get("model"), dict):
        d["model"].setdefault("preset", None)
    if isinstance(d.get("generation"), dict):
        d["generation"].setdefault("case_reading", LEGACY_READING)
        g = d["generation"]
        g.setdefault("default_height", g.get("height", 480))
        g.setdefault("default_width", g.get("width", 832))
        g.setdefault("default_frames", g.get("num_frames", 81))
    backends = d.get("metrics", {}).get("backends", {}) if isinstance(d.get("metrics"), dict) else {}
    for c in d.get("cases", []) if isinstance(d.get("cases"), list) else []:
        if isinstance(c, dict):
            c.setdefault("video", None)
    for t in (d.get("tasks") or {}).values() if isinstance(d.get("tasks"), dict) else []:
        if isinstance(t, dict):
            _na_cover(t, backends)
    if isinstance(d.get("overall"), dict):
        _na_cover(d["overall"], backends)
    d.setdefault("provenance", asdict(Provenance(toolkit_version=str(d.get("toolkit_version", "0+unknown")))))
    return d


def results_from_dict(data: dict[str, Any]) -> Results:
    """A validated results dict → Results (raises BadInputError with every problem when invalid). Schema 1 files are
    upgraded first (upgrade_v1); `Results.upgraded_from` says so."""
    from uvc_bench.results_validate import validate_results

    data = upgrade_v1(data)
    validate_results(data)
    cases = [CaseResult(**{**c, "dimensions": _dims(c["dimensions"]),
                           "video": VideoInfo(**c["video"]) if c["video"] else None}) for c in data["cases"]]
    tasks = {k: TaskResult(**{**t, "dimensions": _dims(t["dimensions"])}) for k, t in data["tasks"].items()}
    overall = OverallResult(**{**data["overall"], "dimensions": _dims(data["overall"]["dimensions"])})
    return Results(model=ModelInfo(**data["model"]), generation=GenerationInfo(**data["generation"]),
                   suite=SuiteInfo(**data["suite"]), metrics=MetricsInfo(**data["metrics"]), cases=cases,
                   tasks=tasks, overall=overall, timings=Timings(**data["timings"]),
                   provenance=Provenance(**data["provenance"]), schema_version=data["schema_version"],
                   toolkit_version=data["toolkit_version"], created=data["created"],
                   upgraded_from=data.get("upgraded_from"))


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
