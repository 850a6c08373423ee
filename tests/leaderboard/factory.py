"""Results files for the leaderboard tests, built through uvc_bench.results' dataclasses (the schema's owner) with
normalised values and NAs computed by uvc_bench.normalize, so every file passes validate_results."""
from __future__ import annotations

import json
from pathlib import Path

from uvc_bench.metrics.api import AGGREGATE_SCALE
from uvc_bench.normalize import norm_d, normalized_average
from uvc_bench.results import (CaseResult, DimValue, GenerationInfo, MetricsInfo, ModelInfo, OverallResult, Results,
                               SuiteInfo, TaskResult, Timings)

REFERENCE_BACKENDS = {"subject_consistency": "dino_vitb16", "background_consistency": "clip_vitb32",
                      "aesthetic_quality": "laion_v1", "imaging_quality": "musiq_spaq", "motion_smoothness": "amt_s",
                      "dynamic_degree": "raft"}


def dims_for(base: float) -> dict[str, float]:
    """Plausible raw VBench values (fractions) moved together by `base` in [-0.1, 0.1]."""
    return {"subject_consistency": 0.93 + base / 2, "background_consistency": 0.94 + base / 2,
            "aesthetic_quality": 0.55 + base, "imaging_quality": 0.65 + base, "motion_smoothness": 0.98 + base / 10,
            "dynamic_degree": 0.5 + 2 * base}


def _dv(raw: dict[str, float], backends: dict[str, str], per_video: bool = False) -> dict[str, DimValue]:
    out = {}
    for d, x in raw.items():
        scale = AGGREGATE_SCALE.get(d, 1.0) if per_video else 1.0
        out[d] = DimValue(raw=x, normalized=norm_d(x * scale, d), backend=backends[d])
    return out


def make_results(model: str = "VDOT", steps: int | None = 4, seconds: float | None = 12.5,
                 tasks: dict[str, float] | None = None, backends: dict[str, str] | None = None,
                 convention: str = "vace", fidelity: dict[str, dict[str, float]] | None = None,
                 settings: dict | None = None, suite_hash: str = "a" * 64, cases_per_task: int = 2) -> Results:
    """tasks: task name → `base` offset of its raw values (dims_for)."""
    tasks = {"depth": 0.02, "pose": 0.03, "r2v": -0.01} if tasks is None else tasks
    backends = dict(REFERENCE_BACKENDS, **(backends or {}))
    fidelity = fidelity or {}
    cases, task_results, all_raw = [], {}, []
    for t, base in tasks.items():
        raw = dims_for(base)
        all_raw.append(raw)
        per_video = {d: x * (100.0 if d == "imaging_quality" else 1.0) for d, x in raw.items()}
        for i in range(cases_per_task):
            cases.append(CaseResult(case_id=f"{t}/{i:03d}", subtask=t, sample_id=f"{i:03d}", task=t, status="ok",
                                    dimensions=_dv(per_video, backends, per_video=True),
                                    fidelity=dict(fidelity.get(t, {})), seconds=seconds))
        dims = sorted(raw)
        task_results[t] = TaskResult(subtask=t, task=t, num_cases=cases_per_task, num_scored=cases_per_task,
                                     dimensions=_dv(raw, backends), na=normalized_average(raw, convention),
                                     na_dimensions=dims, fidelity=dict(fidelity.get(t, {})))
    mean = {d: sum(r[d] for r in all_raw) / len(all_raw) for d in REFERENCE_BACKENDS} if all_raw else {}
    nas = [t.na for t in task_results.values()]
    n = cases_per_task * len(tasks)
    overall = OverallResult(dimensions=_dv(mean, backends), na=sum(nas) / len(nas) if nas else None,
                            na_dimensions=sorted(mean) if nas else [], num_cases=n, num_scored=n)
    timings = Timings(seconds_per_video=seconds, generation_seconds=None if seconds is None else seconds * n,
                      timed_videos=n if seconds is not None else 0, scoring_seconds=3.0)
    return Results(model=ModelInfo(name=model, settings=settings or {"scheduler": "unipc"}, steps=steps,
                                   guidance=1.0, shift=16.0),
                   generation=GenerationInfo(seed=2025, height=480, width=832, num_frames=81, fps=16.0),
                   suite=SuiteInfo(hash=suite_hash, root="/data/uvcbench", num_cases=n),
                   metrics=MetricsInfo(dimensions=sorted(REFERENCE_BACKENDS), backends=backends,
                                       na_convention=convention),
                   cases=cases, tasks=task_results, overall=overall, timings=timings, created=1700000000.0)


def write_results(path: Path, results: Results) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results.to_dict(), indent=1))
    return path
