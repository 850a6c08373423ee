"""Generation: run a bench model over a suite, writing `<out>/<subtask>/<sample_id>.mp4` (official layout, 16 fps).

Resumable: a case whose video exists is skipped (rerun the same command after a crash); videos are written to a
temporary name and renamed, so a killed run never leaves a half-written `.mp4`. A failed case is recorded with its
error in `<out>/generation.jsonl` and the run goes on (the next run retries it). `<out>/generation.json` records the
model, its settings, the suite hash and the generation settings; resuming with other settings is refused.
With `workers > 0` the cases run on that many Ray actors (one GPU each with `gpus_per_worker=1`); the actors read the
suite and write the outputs themselves, so on several nodes both folders must be on a shared filesystem.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from uvc_data.errors import ConfigError, UVCError
from uvc_data.video.codec import encode_video
from uvc_bench.case_reading import READING_NAME, ReadingConfig
from uvc_bench.case_vcu import case_shape, case_vcu
from uvc_bench.models.base import CaseFiles, GenRequest, GenResult, VideoModel, check_file, check_video
from uvc_bench.suite import OFFICIAL_FPS, Case, Suite, load_suite

RUN_FILE = "generation.json"
LOG_FILE = "generation.jsonl"
RUN_SCHEMA = "uvc-generation/1"


@dataclass
class GenerateConfig:
    suite: str = ""
    out: str = ""
    model: str = "baseline"
    model_settings: dict[str, Any] = field(default_factory=dict)
    model_name: str = ""  # the name results and the leaderboard show ("" = the registry name, e.g. "vdot")
    preset: str | None = None  # the preset the settings started from (uvc_bench.models.presets), recorded
    seed: int = 2025  # official: 2025 for every case
    # 0 = as the official inference derives them from each case's source (uvc_bench.case_reading); set = every case
    # read to this shape (same frame spread, resize + centre crop): a deviation, recorded in generation.json
    height: int = 0
    width: int = 0
    num_frames: int = 0
    fps: float = OFFICIAL_FPS  # frame rate of the written videos (official 16)
    crf: int = 12  # H.264 quality of the written videos
    tasks: list[str] = field(default_factory=list)  # empty = every case of the suite
    limit: int = 0  # at most this many cases per subtask (0 = all)
    overwrite: bool = False  # regenerate existing videos
    workers: int = 0  # 0 = in this process; N = N Ray actors
    gpus_per_worker: float = 0.0
    ray_address: str = ""  # "" = start a local Ray; "auto" = join the running cluster
    progress: bool = True

    def validate(self) -> None:
        if not self.suite:
            raise ConfigError("suite", "give the suite folder (indices/*.txt)")
        if not self.out:
            raise ConfigError("out", "give the output folder")
        if (self.height > 0) != (self.width > 0):
            raise ConfigError("height", "set height and width together (or neither, to use the suite's)")
        if self.height % 2 or self.width % 2:
            raise ConfigError("height", f"H.264 needs even sizes, got {self.width}x{self.height}")
        if self.workers < 0 or self.gpus_per_worker < 0:
            raise ConfigError("workers", "workers and gpus_per_worker must be ≥ 0")
        if self.fps <= 0:
            raise ConfigError("fps", f"must be > 0, got {self.fps}")


@dataclass(frozen=True)
class Shape:
    """How a run reads its cases and writes its videos. height / width / num_frames: 0 = per case, as the official
    inference reads it; default_*: the shape of cases without a source video (T2V, R2V)."""

    height: int
    width: int
    num_frames: int
    fps: float
    seed: int
    default_height: int = 480
    default_width: int = 832
    default_frames: int = 81

    @property
    def reading(self) -> ReadingConfig:
        return ReadingConfig(height=self.height, width=self.width, num_frames=self.num_frames)

    @property
    def default(self) -> tuple[int, int, int]:
        return self.default_height, self.default_width, self.default_frames

    def record(self) -> dict[str, Any]:
        """The generation block of generation.json / results (what makes two runs' videos comparable)."""
        return {"seed": self.seed, "height": self.height, "width": self.width, "num_frames": self.num_frames,
                "fps": self.fps, "case_reading": READING_NAME, "default_height": self.default_height,
                "default_width": self.default_width, "default_frames": self.default_frames}


def run_shape(cfg: GenerateConfig, suite: Suite) -> Shape:
    (h, w), n, _ = suite.working_shape()
    return Shape(cfg.height, cfg.width, cfg.num_frames, cfg.fps, cfg.seed, h, w, n)


def output_path(out: str | Path, case: Case) -> Path:
    return Path(out) / case.subtask / f"{case.sample_id}.mp4"


def write_video_atomic(path: Path, video: np.ndarray, fps: float, crf: int) -> None:
    """Encode to `<path>.tmp` and rename: a crash leaves no partial `.mp4`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(encode_video(video, fps, crf=crf))
    os.replace(tmp, path)


def build_request(case: Case, shape: Shape) -> GenRequest:
    cs = case_shape(case, shape.reading, shape.default)
    vcu = case_vcu(case, shape=cs)
    files = CaseFiles(case.src_video if "video" in case.route else None,
                      case.src_mask if case.route == "video_and_mask" else None,
                      case.src_ref_images if "ref" in case.route else ())
    return GenRequest(subtask=case.subtask, sample_id=case.sample_id, task=case.task, vcu=vcu, seed=shape.seed,
                      size=(cs.height, cs.width), num_frames=cs.num_frames, fps=shape.fps, files=files)


def copy_video_atomic(src: Path, path: Path) -> None:
    """A finished video file copied byte for byte (no cut, no re-encode) to `<path>.tmp`, then renamed."""
    import shutil

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, path)


def _result_problem(res: GenResult, req: GenRequest) -> str | None:
    if res.error:
        return res.error
    if res.path is not None:
        return check_file(res.path, req)
    if res.video is None:
        return "the model returned no video"
    return check_video(res.video, req, res.fps)


def generate_isolated(model: VideoModel, requests: list[GenRequest]) -> list[GenResult]:
    """model.generate, where an exception fails only the case(s) that raise it: a failing batch is retried case by
    case, and a case that still raises becomes a result carrying the error. (Catching every Exception is the point:
    one broken case must not end a 360-case run; KeyboardInterrupt still stops it.)"""
    try:
        results = model.generate(requests)
        if len(results) != len(requests):
            raise UVCError(f"model {model.name!r} returned {len(results)} results for {len(requests)} requests")
        return results
    except Exception as exc:  # noqa: BLE001
        if len(requests) == 1:
            return [GenResult(requests[0].case_id, error=f"{type(exc).__name__}: {exc}")]
        return [r for req in requests for r in generate_isolated(model, [req])]


def run_batch(model: VideoModel, cases: list[Case], shape: Shape, out: str, crf: int) -> list[dict[str, Any]]:
    """Generate and write one batch of cases; one log record per case (status ok / failed)."""
    records: dict[str, dict[str, Any]] = {}
    requests = []
    for case in cases:
        try:
            requests.append(build_request(case, shape))
        except (UVCError, OSError) as exc:
            records[case.case_id] = {"case_id": case.case_id, "status": "failed", "error": f"input: {exc}",
                                     "seconds": None}
    for req, res in zip(requests, generate_isolated(model, requests) if requests else []):
        rec: dict[str, Any] = {"case_id": req.case_id, "status": "ok", "error": None, "seconds": res.seconds}
        problem = _result_problem(res, req)
        if problem is None:
            target = output_path(out, _case_of(cases, req.case_id))
            try:
                if res.path is not None:
                    copy_video_atomic(res.path, target)
                else:
                    write_video_atomic(target, res.video, shape.fps, crf)
            except (UVCError, OSError) as exc:
                problem = f"cannot write the video: {exc}"
        if problem:
            rec.update(status="failed", error=problem)
        records[req.case_id] = rec
    return [records[c.case_id] for c in cases]


def _case_of(cases: list[Case], case_id: str) -> Case:
    return next(c for c in cases if c.case_id == case_id)


def _batches(items: list[Case], size: int) -> Iterator[list[Case]]:
    for i in range(0, len(items), max(1, size)):
        yield items[i : i + size]


def read_log(out: str | Path) -> dict[str, dict[str, Any]]:
    """case_id → its latest generation record."""
    path = Path(out) / LOG_FILE
    latest: dict[str, dict[str, Any]] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash
            latest[rec["case_id"]] = rec
    return latest


def _check_resume(out: Path, run: dict[str, Any], overwrite: bool) -> None:
    path = out / RUN_FILE
    if overwrite or not path.is_file():
        return
    old = json.loads(path.read_text())
    ignore = {"device"}
    for key in ("model", "generation"):
        a = {k: v for k, v in _flat(old.get(key, {})).items() if k.split(".")[-1] not in ignore}
        b = {k: v for k, v in _flat(run[key]).items() if k.split(".")[-1] not in ignore}
        if a != b:
            diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            raise ConfigError("out", f"{out} holds videos of another run ({key} differs in {diff}); resume with the "
                              "same settings, choose another --out, or pass --overwrite to regenerate everything")


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, disable=not enabled, unit="video", desc="generate", dynamic_ncols=True)


@dataclass
class GenerationSummary:
    out: str
    total: int
    skipped: int  # already there
    ok: int
    failed: dict[str, str]  # case_id → error

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def generate_suite(cfg: GenerateConfig, model_factory: Callable[[], VideoModel] | None = None,
                   log: Callable[[str], None] = print) -> GenerationSummary:
    """Generate every selected case of the suite that has no video yet. `model_factory` overrides building
    cfg.model from the registry (tests, embedding)."""
    from uvc_bench.models.registry import build_model
    from uvc_bench.results import toolkit_version

    cfg.validate()
    suite = load_suite(cfg.suite)
    shape = run_shape(cfg, suite)
    out = Path(cfg.out).expanduser()
    cases = suite.select(cfg.tasks, cfg.limit)
    todo = [c for c in cases if cfg.overwrite or not output_path(out, c).is_file()]
    summary = GenerationSummary(str(out), len(cases), len(cases) - len(todo), 0, {})

    factory = model_factory or (lambda: build_model(cfg.model, cfg.model_settings))
    pool = None
    if cfg.workers > 0 and todo:
        from uvc_bench.ray_pool import RayModelPool

        pool = RayModelPool(cfg.model, cfg.model_settings, cfg.workers, cfg.gpus_per_worker, cfg.ray_address)
        name, settings, batch = pool.describe()
    else:
        model = factory()
        name, settings, batch = model.name, model.settings(), model.batch_size
    run = {"schema": RUN_SCHEMA, "model": {"name": cfg.model_name or name, "settings": settings, "preset": cfg.preset},
           "generation": {**shape.record(), "crf": cfg.crf},
           "suite": {"root": str(suite.root), "hash": suite.content_hash()}, "toolkit_version": toolkit_version()}
    out.mkdir(parents=True, exist_ok=True)
    _check_resume(out, run, cfg.overwrite)
    (out / RUN_FILE).write_text(json.dumps(run, indent=1, sort_keys=True, default=str))

    batches = list(_batches(todo, batch))
    results: Iterable[list[dict[str, Any]]]
    if pool is not None:
        results = pool.run(batches, asdict(shape), str(out), cfg.crf)
    else:
        results = (run_batch(model, b, shape, str(out), cfg.crf) for b in batches)
    bar = _progress(len(todo), cfg.progress)
    try:
        with open(out / LOG_FILE, "a") as fh:
            for records in results:
                for rec in records:
                    rec["time"] = time.time()
                    fh.write(json.dumps(rec) + "\n")
                    fh.flush()
                    if rec["status"] == "ok":
                        summary.ok += 1
                    else:
                        summary.failed[rec["case_id"]] = rec["error"]
                        bar.write(f"failed {rec['case_id']}: {rec['error']}")
                bar.update(len(records))
    finally:
        bar.close()
        if pool is not None:
            pool.close()
    log(f"generated {summary.ok}, kept {summary.skipped} existing, failed {len(summary.failed)} of "
        f"{summary.total} cases → {out}")
    if summary.failed:
        log(f"failed cases are listed in {out / LOG_FILE}; rerun the same command to retry them")
    return summary
