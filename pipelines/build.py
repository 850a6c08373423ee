"""The dataset-builder recipe: a typed BuildConfig → stages of steps → `run_build`.

Stages (each a group of steps one worker runs; the Ray executor gives each its own actor pool):
  split     DecodeSplit (probe, decode once, shots, clips) → AssignTasks → cheap clip filters      CPU
  caption   captioner → optional LLM judge (before the annotators: a clip without a usable caption  GPU if stages.caption_gpus
            is rejected before any condition is computed for it, and the judge removes tasks first)
  annotate  annotators (conditions per task still alive) → task-aware filters                     GPU if stages.annotate_gpus
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from uvc_data.annotators import ANNOTATORS, DEFAULT_ANNOTATORS, build_annotator
from uvc_data.captioners import CaptionConfig, CaptionStep
from uvc_data.captioners.sidecar import check_caption_source
from uvc_data.configurable import to_dict, validate
from uvc_data.errors import ConfigError, UnknownNameError
from uvc_data.sample import VideoInput
from uvc_data.filters import DEFAULT_CLIP_FILTERS, DEFAULT_TASK_FILTERS, FILTERS, build_filter
from uvc_data.steps.assign import AssignTasks
from uvc_data.steps.base import Step
from uvc_data.steps.split import DecodeSplit, SplitConfig
from uvc_data.tasks import all_tasks, get_task
from uvc_data.writer import BuildSummary, ExecutorConfig, StageSpec, WriterConfig, discover_inputs, run_build
from pipelines.dry_run import DryRunReport, dry_run

SCHEMA = "uvc-build-config/1"
log = logging.getLogger("pipelines.build")


@dataclass
class StagesConfig:
    """Resources per stage for the Ray executor (the local executor runs everything in-process)."""

    split_cpus: float = 1.0
    split_workers: int = 1
    annotate_gpus: float = 0.0  # > 0: annotate actors ask for GPUs (Depth Anything, DWPose, RAFT)
    annotate_workers: int = 1
    caption_gpus: float = 0.0  # > 0: caption actors ask for GPUs (transformers VLMs)
    caption_workers: int = 1

    def validate(self) -> None:
        for name in ("split_workers", "annotate_workers", "caption_workers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"stages.{name}", "must be ≥ 1")


@dataclass
class BuildConfig:
    """Everything `uvc data build` does. Named recipes (pipelines.recipes) fill it; `--set key=value` overrides."""

    tasks: list[str] = field(default_factory=lambda: [t.name for t in all_tasks()])
    split: SplitConfig = field(default_factory=SplitConfig)
    clip_filters: list[str] = field(default_factory=lambda: list(DEFAULT_CLIP_FILTERS))
    annotators: list[str] = field(default_factory=lambda: list(DEFAULT_ANNOTATORS))
    task_filters: list[str] = field(default_factory=lambda: list(DEFAULT_TASK_FILTERS))
    judge: bool = False  # run the LLM judge (filter "llm_judge") over the caption
    caption: CaptionConfig = field(default_factory=CaptionConfig)
    # per-step options, by registry name: {"flow": {"backend": "raft", "raft_weights": ...}, "blur": {...}}
    annotator_options: dict[str, Any] = field(default_factory=dict)
    filter_options: dict[str, Any] = field(default_factory=dict)
    writer: WriterConfig = field(default_factory=WriterConfig)
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)
    stages: StagesConfig = field(default_factory=StagesConfig)

    def validate(self) -> None:
        if not self.tasks:
            raise ConfigError("tasks", "give at least one task (see `uvc tasks`)")
        for t in self.tasks:
            try:
                get_task(t)
            except UnknownNameError as exc:
                raise ConfigError("tasks", str(exc)) from exc
        for fld, names, registry in (("clip_filters", self.clip_filters, FILTERS), ("task_filters", self.task_filters, FILTERS),
                                     ("annotators", self.annotators, ANNOTATORS)):
            for n in names:
                try:
                    registry.get(n)
                except UnknownNameError as exc:
                    raise ConfigError(fld, str(exc)) from exc
        for fld, opts, names in (("annotator_options", self.annotator_options, self.annotators),
                                 ("filter_options", self.filter_options, [*self.clip_filters, *self.task_filters, "llm_judge"])):
            for n in opts:
                if n not in names:
                    raise ConfigError(f"{fld}.{n}", f"options for {n!r}, which this build does not run ({names})")
        if self.judge and self.caption.backend == "sidecar" and "llm_judge" not in self.filter_options:
            raise ConfigError("judge", "the LLM judge needs filter_options.llm_judge (model_dir or base_url + model)")
        # every option table must build: errors name <step>.<field> now, not in a worker later
        for n in self.annotators:
            ANNOTATORS.config(n, self.annotator_options.get(n))
        for n in [*self.clip_filters, *self.task_filters] + (["llm_judge"] if self.judge else []):
            FILTERS.config(n, self.filter_options.get(n))


def fingerprint(cfg: BuildConfig) -> str:
    """What decides the content of staged samples: everything but the executor and the packing limits."""
    data = to_dict(cfg)
    data.pop("executor")
    data.pop("stages")
    for k in ("samples_per_shard", "max_shard_bytes", "manifest_row_group", "encode_ahead"):
        data["writer"].pop(k)
    data["split"]["decode"].pop("prefetch_frames")  # how far the decoder runs ahead: same frames either way
    data["schema"] = SCHEMA
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


# Stage factories are module-level functions of the (picklable) config, so Ray workers can build their own steps.
def _split_steps(cfg: BuildConfig) -> list[Step]:
    return [DecodeSplit(cfg.split), AssignTasks(cfg.tasks), *(build_filter(n, cfg.filter_options.get(n)) for n in cfg.clip_filters)]


def _annotate_steps(cfg: BuildConfig) -> list[Step]:
    return [*(build_annotator(n, cfg.annotator_options.get(n)) for n in cfg.annotators),
            *(build_filter(n, cfg.filter_options.get(n)) for n in cfg.task_filters)]


def _caption_steps(cfg: BuildConfig) -> list[Step]:
    steps: list[Step] = [CaptionStep(cfg.caption)]
    if cfg.judge:
        steps.append(build_filter("llm_judge", cfg.filter_options.get("llm_judge")))
    return steps


def make_stages(cfg: BuildConfig) -> list[StageSpec]:
    s = cfg.stages
    return [
        StageSpec("split", partial(_split_steps, cfg), num_cpus=s.split_cpus, concurrency=s.split_workers),
        StageSpec("caption", partial(_caption_steps, cfg), num_gpus=s.caption_gpus, concurrency=s.caption_workers),
        StageSpec("annotate", partial(_annotate_steps, cfg), num_gpus=s.annotate_gpus, concurrency=s.annotate_workers),
    ]


def select_inputs(inputs: list[str], limit: int | None = None) -> list[VideoInput]:
    """Discover the inputs; `limit` keeps the first N in input order (their ids and indices are those of the full
    list, so a later run over everything resumes them)."""
    videos = discover_inputs(inputs)
    if not videos:
        raise ConfigError("inputs", f"no video files found in {inputs}: give files, folders, globs or @list.txt")
    if limit is not None:
        if limit < 1:
            raise ConfigError("--limit", f"{limit} must be ≥ 1")
        videos = videos[:limit]
    return videos


def plan_dataset(inputs: list[str], cfg: BuildConfig, limit: int | None = None) -> DryRunReport:
    """`--dry-run`: the build's scale from the inputs' headers (nothing decoded, nothing written)."""
    validate(cfg)
    return dry_run(select_inputs(inputs, limit), cfg)


def build_dataset(inputs: list[str], out_dir: str | Path, cfg: BuildConfig, limit: int | None = None) -> BuildSummary:
    """Build (or resume) a dataset in `out_dir` from input files / folders / globs / list files (`limit`: only
    the first N inputs)."""
    validate(cfg)
    videos = select_inputs(inputs, limit)
    if cfg.caption.backend == "sidecar":
        missing = check_caption_source([v.path for v in videos], cfg.caption)  # before any work: fail with options
        if missing:
            log.warning("%d of %d inputs have no sidecar caption; their clips will be rejected (first: %s)",
                        len(missing), len(videos), missing[0])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(to_dict(cfg), indent=2, sort_keys=True) + "\n")
    return run_build(videos, make_stages(cfg), out, cfg.executor, cfg.writer, fingerprint(cfg))
