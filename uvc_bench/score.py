"""Scoring: each output video is decoded ONCE and the frames are shared by every VBench dimension
(Scorer.score_video) and by condition fidelity; results per case, per subtask and overall, raw + normalised + NA,
with the backend of every number recorded. Numbers from different backends are never averaged together.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np

from uvc_data.errors import BadInputError, ConfigError, UVCError
from uvc_data.video.codec import decode_video
from uvc_bench.generate import RUN_FILE, output_path, read_log
from uvc_bench.metrics.api import AGGREGATE_SCALE, DimScore, MetricsConfig, Scorer, aggregate
from uvc_bench.normalize import VBENCH_MIN_MAX, norm_d, normalized_average
from uvc_bench.results import (CaseResult, DimValue, GenerationInfo, MetricsInfo, ModelInfo, OverallResult, Results,
                               SuiteInfo, TaskResult, Timings)
from uvc_bench.suite import Case, Suite, load_suite

RESULTS_FILE = "results.json"


@dataclass
class ScoreConfig:
    suite: str = ""
    outputs: str = ""  # <outputs>/<subtask>/<sample_id>.mp4
    results: str = ""  # "" = <outputs>/results.json
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    na_convention: Literal["vace", "vbench"] = "vace"
    fidelity: bool = True
    tasks: list[str] = field(default_factory=list)
    limit: int = 0
    model_name: str = ""  # for outputs made elsewhere (no generation.json); "" = "external"
    vbench_export: str = ""  # also write VBench *_eval_results.json files to this folder

    def validate(self) -> None:
        if not self.suite:
            raise ConfigError("suite", "give the suite folder")
        if not self.outputs:
            raise ConfigError("outputs", "give the folder holding <subtask>/<sample_id>.mp4")
        if not Path(self.outputs).expanduser().is_dir():
            raise ConfigError("outputs", f"{self.outputs} is not a folder; run `uvc bench generate` first")


@dataclass
class _Scored:
    case: Case
    result: CaseResult
    scores: dict[str, DimScore] = field(default_factory=dict)


def _dim_value(name: str, raw: float, backend: str, per_video: bool) -> DimValue:
    if name not in VBENCH_MIN_MAX:
        raise UVCError(f"dimension {name!r} has no VBench normalisation constants; known: {sorted(VBENCH_MIN_MAX)}")
    scale = AGGREGATE_SCALE.get(name, 1.0) if per_video else 1.0
    return DimValue(raw=float(raw), normalized=float(norm_d(raw * scale, name)), backend=backend)


def _backend(scorer: Scorer, name: str, s: DimScore, case_id: str) -> str:
    declared = scorer.backends.get(name, "")
    if s.backend and declared and s.backend != declared:
        raise UVCError(f"{case_id}: {name} scored by {s.backend!r} while the scorer declares {declared!r}; "
                       "numbers from different backends cannot be mixed")
    return s.backend or declared


def score_case(scorer: Scorer, case: Case, path: Path, fidelity: bool) -> tuple[dict[str, DimScore], CaseResult]:
    """Decode one output once; VBench dimensions and condition fidelity from the same frames."""
    from uvc_bench.case_vcu import case_ground_truth, case_vcu

    frames, fps = decode_video(path)
    scores = scorer.score_video(frames, fps or 16.0)
    res = CaseResult(case.case_id, case.subtask, case.sample_id, case.task, "ok")
    res.dimensions = {d: _dim_value(d, s.value, _backend(scorer, d, s, case.case_id), True) for d, s in scores.items()}
    if fidelity and case.known_task:
        from uvc_bench.metrics.fidelity import condition_fidelity_report

        try:
            t, h, w = frames.shape[:3]
            vcu = case_vcu(case, (h, w), t)
            source = case_ground_truth(case, (h, w), t)
            if source is not None and source.shape != frames.shape:
                source = None  # a shorter ground truth cannot be paired frame by frame
            rep = condition_fidelity_report(case.task, frames, vcu, source, scorer.image_features,
                                            getattr(scorer, "reannotators", None))
            res.fidelity, res.fidelity_skipped = dict(rep.values), dict(rep.skipped)
        except UVCError as exc:
            res.fidelity_skipped["all"] = str(exc)
    elif fidelity:
        res.fidelity_skipped["all"] = f"subtask {case.subtask!r} is not a registered task"
    return scores, res


def _aggregate_group(scored: list[_Scored], scorer: Scorer) -> dict[str, DimValue]:
    per_video = [s.scores for s in scored if s.result.status == "ok"]
    values = aggregate(per_video) if per_video else {}
    return {d: _dim_value(d, v, scorer.backends.get(d, ""), False) for d, v in values.items()}


def _na(dims: dict[str, DimValue], convention: str) -> tuple[float | None, list[str]]:
    used = sorted(d for d in dims if d in VBENCH_MIN_MAX)
    if not used:
        return None, []
    return normalized_average({d: dims[d].raw for d in used}, convention), used


def _mean_fidelity(results: list[CaseResult]) -> dict[str, float]:
    acc: dict[str, list[float]] = {}
    for r in results:
        for k, v in r.fidelity.items():
            if v is not None and np.isfinite(v):
                acc.setdefault(k, []).append(float(v))
    return {k: float(np.mean(v)) for k, v in sorted(acc.items())}


def _run_info(outputs: Path, suite: Suite, model_name: str) -> tuple[ModelInfo, GenerationInfo]:
    run_file = outputs / RUN_FILE
    if run_file.is_file():
        run = json.loads(run_file.read_text())
        s = run["model"]["settings"]
        g = run["generation"]
        model = ModelInfo(run["model"]["name"], s, s.get("steps"), s.get("guidance"), s.get("shift"))
        return model, GenerationInfo(g["seed"], g["height"], g["width"], g["num_frames"], float(g["fps"]))
    (h, w), n, fps = suite.working_shape()
    return ModelInfo(model_name or "external"), GenerationInfo(2025, h, w, n, fps)


def score_outputs(cfg: ScoreConfig, scorer: Scorer | None = None, log: Callable[[str], None] = print) -> Results:
    """Score every selected case; writes the results file (and VBench exports when asked) and returns it."""
    from tqdm import tqdm

    from uvc_bench.results_validate import validate_results

    cfg.validate()
    t_start = time.perf_counter()
    suite = load_suite(cfg.suite)
    outputs = Path(cfg.outputs).expanduser()
    cases = suite.select(cfg.tasks, cfg.limit)
    scorer = scorer or Scorer(cfg.metrics)
    for d, why in scorer.missing.items():
        log(f"warning: {d} cannot be scored: {why.splitlines()[0]}")
    gen_log = read_log(outputs)
    scored: list[_Scored] = []
    for case in tqdm(cases, desc="score", unit="video", disable=not os.isatty(2)):
        rec = gen_log.get(case.case_id, {})
        path = output_path(outputs, case)
        if not path.is_file():
            status = "failed" if rec.get("status") == "failed" else "missing"
            err = rec.get("error") or f"no video at {path}"
            scored.append(_Scored(case, CaseResult(case.case_id, case.subtask, case.sample_id, case.task, status,
                                                   error=err)))
            continue
        try:
            scores, res = score_case(scorer, case, path, cfg.fidelity)
        except BadInputError as exc:
            res = CaseResult(case.case_id, case.subtask, case.sample_id, case.task, "failed", error=f"scoring: {exc}")
            scores = {}
        res.seconds = rec.get("seconds")
        scored.append(_Scored(case, res, scores))

    tasks: dict[str, TaskResult] = {}
    for subtask in dict.fromkeys(s.case.subtask for s in scored):
        group = [s for s in scored if s.case.subtask == subtask]
        dims = _aggregate_group(group, scorer)
        na, used = _na(dims, cfg.na_convention)
        ok = [s.result for s in group if s.result.status == "ok"]
        tasks[subtask] = TaskResult(subtask, group[0].case.task, len(group), len(ok), dims, na, used,
                                    _mean_fidelity(ok))
    all_dims = _aggregate_group(scored, scorer)
    task_nas = [t.na for t in tasks.values() if t.na is not None]
    n_ok = sum(s.result.status == "ok" for s in scored)
    overall = OverallResult(all_dims, float(np.mean(task_nas)) if task_nas else None,
                            sorted(d for d in all_dims if d in VBENCH_MIN_MAX), len(scored), n_ok)
    secs = [s.result.seconds for s in scored if s.result.seconds is not None]
    model, generation = _run_info(outputs, suite, cfg.model_name)
    results = Results(
        model=model, generation=generation,
        suite=SuiteInfo(suite.content_hash(), str(suite.root), len(cases)),
        metrics=MetricsInfo(list(cfg.metrics.dimensions), dict(scorer.backends), dict(scorer.missing),
                            dict(getattr(scorer, "fallbacks", {})), cfg.na_convention),
        cases=[s.result for s in scored], tasks=tasks, overall=overall,
        timings=Timings(float(np.median(secs)) if secs else None, float(np.sum(secs)) if secs else None, len(secs),
                        time.perf_counter() - t_start),
    )
    data = results.to_dict()
    validate_results(data)  # never write a file the leaderboard would reject
    out = Path(cfg.results).expanduser() if cfg.results else outputs / RESULTS_FILE
    write_json_atomic(out, data)
    if cfg.vbench_export:
        from uvc_bench.vbench_export import export_vbench

        export_vbench(results, cfg.vbench_export)
    log(f"scored {n_ok} of {len(scored)} videos → {out}")
    return results


def write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=False, allow_nan=False))
    os.replace(tmp, path)
