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
from uvc_bench.generate import RUN_FILE, Shape, output_path, read_log
from uvc_bench.metrics.api import AGGREGATE_SCALE, DimScore, MetricsConfig, Scorer, aggregate
from uvc_bench.normalize import VBENCH_MIN_MAX, norm_d, normalized_average
from uvc_bench.results import (CaseResult, DimValue, GenerationInfo, MetricsInfo, ModelInfo, OverallResult, Results,
                               SuiteInfo, TaskResult, Timings, VideoInfo)
from uvc_bench.score_cache import CACHE_DIR, ScoreCache
from uvc_bench.suite import Case, Suite, load_suite

RESULTS_FILE = "results.json"


@dataclass
class ScoreConfig:
    suite: str = ""
    outputs: str = ""  # <outputs>/<subtask>/<sample_id>.mp4
    results: str = ""  # "" = <outputs>/results.json
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    na_convention: Literal["vace", "vbench"] = "vbench"  # VDOT's / VBench's ÷ Σw; "vace" = VACE's 8-dim table (÷ n)
    fidelity: bool = True
    check_outputs: bool = True  # a video whose frames / size / fps differ from its case fails that case (False:
    # score any video as VBench does; condition fidelity is then skipped for mismatched ones)
    command: list[str] | None = None  # recorded in provenance (None = sys.argv)
    cache: str | None = ""  # per-case score cache folder ("" = <outputs>/.score_cache, None = no cache)
    workers: int = 0  # 0 = score in this process; N = N Ray actors, each with its own Scorer (one GPU each with
    gpus_per_worker: float = 0.0  # gpus_per_worker = 1); the same numbers as one process
    ray_address: str = ""
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
        if self.workers < 0 or self.gpus_per_worker < 0:
            raise ConfigError("workers", "workers and gpus_per_worker must be ≥ 0")


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


def _mismatch(frames: int, height: int, width: int, fps: float, shape, run_fps: float) -> str | None:
    diffs = []
    if frames != shape.num_frames:
        diffs.append(f"{frames} frames, the case has {shape.num_frames}")
    if (height, width) != (shape.height, shape.width):
        diffs.append(f"{width}×{height}, the case is {shape.width}×{shape.height}")
    if abs(fps - run_fps) > 1e-3:
        diffs.append(f"{fps:g} fps, the run's videos are {run_fps:g} fps")
    return "; ".join(diffs) or None


def score_case(scorer: Scorer, case: Case, path: Path, fidelity: bool, run: Shape | None = None,
               check: bool = True, cache: ScoreCache | None = None) -> tuple[dict[str, DimScore], CaseResult]:
    """Decode one output once; VBench dimensions and condition fidelity from the same frames, at the file's own fps.
    The output is checked against its case as the official inference reads it (frames, size; fps against the run's):
    a mismatch is a BadInputError naming what differs (check=False: scored anyway, fidelity skipped). Values already
    in `cache` (same video hash, dimension, backend, dtype) are reused; a fully cached video is not decoded."""
    from uvc_bench.case_vcu import case_shape
    from uvc_bench.video_io import probe_video, sha256_file

    run = run or Shape(0, 0, 0, 16.0, 2025)
    cache = cache or ScoreCache(None)
    probe = probe_video(path)
    if not probe.fps or probe.fps <= 0:
        raise BadInputError(f"{path} does not say its frame rate; re-encode it with one (e.g. ffmpeg -r 16)")
    cs = case_shape(case, run.reading, run.default)
    mismatch = _mismatch(probe.num_frames, probe.height, probe.width, probe.fps, cs, run.fps)
    if mismatch and check:
        raise BadInputError(f"{path}: output does not match its case: {mismatch} (generate at the case's shape, "
                            "or score with --no-output-check to score it as it is, without fidelity)")
    sha, dtype = sha256_file(path), scorer_dtype(scorer)
    scores = cache.dims(sha, dict(scorer.backends), dtype)
    want_fidelity = fidelity and case.known_task and not mismatch
    fid = cache.fidelity(sha, case.case_id) if want_fidelity else None
    frames = None
    if scores is None or (want_fidelity and fid is None):
        frames, fps = decode_video(path)
        if scores is None:
            scores = scorer.score_video(frames, fps)
        if want_fidelity and fid is None:
            fid = _fidelity(scorer, case, frames, cs)
        cache.store(sha, scores, dtype, case.case_id, fid)
    res = CaseResult(case.case_id, case.subtask, case.sample_id, case.task, "ok")
    res.video = VideoInfo(sha, probe.num_frames, probe.height, probe.width, float(probe.fps))
    res.dimensions = {d: _dim_value(d, s.value, _backend(scorer, d, s, case.case_id), True) for d, s in scores.items()}
    if fid is not None:
        res.fidelity, res.fidelity_skipped = dict(fid[0]), dict(fid[1])
    elif fidelity and mismatch:
        res.fidelity_skipped["all"] = f"output does not match its case: {mismatch}"
    elif fidelity:
        res.fidelity_skipped["all"] = f"subtask {case.subtask!r} is not a registered task"
    return scores, res


def _fidelity(scorer: Scorer, case: Case, frames: np.ndarray, cs) -> tuple[dict[str, float], dict[str, str]]:
    """Condition fidelity of one output against its case's inputs, read through the model input's path."""
    from uvc_bench.case_vcu import case_ground_truth, case_vcu
    from uvc_bench.metrics.fidelity import condition_fidelity_report

    try:
        vcu = case_vcu(case, shape=cs)
        source = case_ground_truth(case, cs)  # frame by frame with the model input
        rep = condition_fidelity_report(case.task, frames, vcu, source, scorer.image_features,
                                        getattr(scorer, "reannotators", None))
        return dict(rep.values), dict(rep.skipped)
    except UVCError as exc:
        return {}, {"all": str(exc)}


def _aggregate_group(scored: list[_Scored], scorer: Scorer) -> dict[str, DimValue]:
    per_video = [s.scores for s in scored if s.result.status == "ok"]
    values = aggregate(per_video) if per_video else {}
    return {d: _dim_value(d, v, scorer.backends.get(d, ""), False) for d, v in values.items()}


def _na(dims: dict[str, DimValue], convention: str) -> tuple[float | None, list[str], dict[str, str]]:
    """NA over the scored dimensions, the dimensions it covers and their backends."""
    used = sorted(d for d in dims if d in VBENCH_MIN_MAX)
    if not used:
        return None, [], {}
    return normalized_average({d: dims[d].raw for d in used}, convention), used, {d: dims[d].backend for d in used}


def _mean_fidelity(results: list[CaseResult]) -> dict[str, float]:
    acc: dict[str, list[float]] = {}
    for r in results:
        for k, v in r.fidelity.items():
            if v is not None and np.isfinite(v):
                acc.setdefault(k, []).append(float(v))
    return {k: float(np.mean(v)) for k, v in sorted(acc.items())}


def _run_info(outputs: Path, suite: Suite, model_name: str) -> tuple[ModelInfo, GenerationInfo, Shape]:
    """Model, generation record and the run's case reading: from generation.json, else (videos made elsewhere) the
    official reading at 16 fps, seed 2025."""
    run_file = outputs / RUN_FILE
    (h, w), n, _ = suite.working_shape()
    if run_file.is_file():
        run = json.loads(run_file.read_text())
        s = run["model"]["settings"]
        g = run["generation"]
        model = ModelInfo(run["model"]["name"], s, s.get("steps"), s.get("guidance"), s.get("shift"),
                          run["model"].get("preset"))
        shape = Shape(int(g["height"]), int(g["width"]), int(g["num_frames"]), float(g["fps"]), int(g["seed"]),
                      int(g.get("default_height", h)), int(g.get("default_width", w)), int(g.get("default_frames", n)))
    else:
        model = ModelInfo(model_name or "external")
        shape = Shape(0, 0, 0, 16.0, 2025, h, w, n)
    rec = shape.record()
    return model, GenerationInfo(**{k: rec[k] for k in GenerationInfo.__dataclass_fields__}), shape


def score_outputs(cfg: ScoreConfig, scorer: Scorer | None = None, log: Callable[[str], None] = print) -> Results:
    """Score every selected case; writes the results file (and VBench exports when asked) and returns it."""
    from tqdm import tqdm

    from uvc_bench.provenance import collect
    from uvc_bench.results_validate import validate_results

    cfg.validate()
    t_start = time.perf_counter()
    suite = load_suite(cfg.suite)
    outputs = Path(cfg.outputs).expanduser()
    cases = suite.select(cfg.tasks, cfg.limit)
    pool = None
    if cfg.workers > 0 and scorer is None:
        from uvc_bench.ray_pool import RayScorerPool

        pool = RayScorerPool(cfg.metrics, cfg.workers, cfg.gpus_per_worker, cfg.ray_address)
        scorer = pool.describe()
    scorer = scorer or Scorer(cfg.metrics)
    for d, why in scorer.missing.items():
        log(f"warning: {d} cannot be scored, it is left out of every NA: {why.splitlines()[0]}")
    for d, why in scorer.fallbacks.items():
        log(f"warning: {d} is scored by the offline backend {scorer.backends[d]!r}, not VBench's: {why.splitlines()[0]}")
    gen_log = read_log(outputs)
    model, generation, run_shape = _run_info(outputs, suite, cfg.model_name)
    cache_dir = None if cfg.cache is None else (Path(cfg.cache).expanduser() if cfg.cache else outputs / CACHE_DIR)
    todo = [c for c in cases if output_path(outputs, c).is_file()]
    try:
        if pool is not None:
            done = pool.score(todo, [output_path(outputs, c) for c in todo], cfg.fidelity, run_shape,
                              cfg.check_outputs, str(cache_dir) if cache_dir else None)
        else:
            done = (score_or_fail(scorer, c, output_path(outputs, c), cfg.fidelity, run_shape, cfg.check_outputs,
                                  ScoreCache(cache_dir)) for c in todo)
        by_id = dict(tqdm(((r.case_id, (sc, r)) for sc, r in done), total=len(todo), desc="score", unit="video",
                          disable=not os.isatty(2)))
    finally:
        if pool is not None:
            pool.close()
    scored: list[_Scored] = []
    for case in cases:
        rec = gen_log.get(case.case_id, {})
        if case.case_id not in by_id:
            status = "failed" if rec.get("status") == "failed" else "missing"
            err = rec.get("error") or f"no video at {output_path(outputs, case)}"
            scored.append(_Scored(case, CaseResult(case.case_id, case.subtask, case.sample_id, case.task, status,
                                                   error=err)))
            continue
        scores, res = by_id[case.case_id]
        res.seconds = rec.get("seconds")
        scored.append(_Scored(case, res, scores))

    tasks: dict[str, TaskResult] = {}
    for subtask in dict.fromkeys(s.case.subtask for s in scored):
        group = [s for s in scored if s.case.subtask == subtask]
        dims = _aggregate_group(group, scorer)
        na, used, na_backends = _na(dims, cfg.na_convention)
        ok = [s.result for s in group if s.result.status == "ok"]
        tasks[subtask] = TaskResult(subtask, group[0].case.task, len(group), len(ok), dims, na, used,
                                    _mean_fidelity(ok), na_backends, len(used))
    all_dims = _aggregate_group(scored, scorer)
    task_nas = [t.na for t in tasks.values() if t.na is not None]
    n_ok = sum(s.result.status == "ok" for s in scored)
    overall_dims = sorted(d for d in all_dims if d in VBENCH_MIN_MAX)
    overall = OverallResult(all_dims, float(np.mean(task_nas)) if task_nas else None, overall_dims, len(scored), n_ok,
                            {d: all_dims[d].backend for d in overall_dims}, len(overall_dims))
    secs = [s.result.seconds for s in scored if s.result.seconds is not None]
    results = Results(
        model=model, generation=generation,
        suite=SuiteInfo(suite.content_hash(), str(suite.root), len(cases)),
        metrics=MetricsInfo(list(cfg.metrics.dimensions), dict(scorer.backends), dict(scorer.missing),
                            dict(getattr(scorer, "fallbacks", {})), cfg.na_convention),
        cases=[s.result for s in scored], tasks=tasks, overall=overall,
        timings=Timings(float(np.median(secs)) if secs else None, float(np.sum(secs)) if secs else None, len(secs),
                        time.perf_counter() - t_start),
        provenance=collect(cfg.metrics.device, scorer_dtype(scorer), cfg.metrics.batch_size, cfg.metrics.weights_dir,
                           dict(scorer.backends), cfg.command),
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


def score_or_fail(scorer: Scorer, case: Case, path: Path, fidelity: bool, run: Shape, check: bool,
                  cache: ScoreCache) -> tuple[dict[str, DimScore], CaseResult]:
    """score_case, where bad input fails only this case (a result with status "failed" and the reason)."""
    try:
        return score_case(scorer, case, path, fidelity, run, check, cache)
    except BadInputError as exc:
        return {}, CaseResult(case.case_id, case.subtask, case.sample_id, case.task, "failed", error=f"scoring: {exc}")


def scorer_dtype(scorer: Scorer) -> str:
    return str(getattr(scorer, "dtype", "float32"))


def write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=False, allow_nan=False))
    os.replace(tmp, path)
