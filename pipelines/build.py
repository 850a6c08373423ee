"""The dataset-builder recipe: a typed BuildConfig → the stage plan (pipelines.stage_plan) → `run_build`."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.dry_run import DryRunReport, dry_run
from pipelines.stage_fingerprints import annotator_fingerprints, stage_fingerprints
from pipelines.stage_plan import StagesConfig, make_stages
from uvc_data.annotators import ANNOTATORS, DEFAULT_ANNOTATORS
from uvc_data.captioners import CaptionConfig
from uvc_data.captioners.sidecar import check_caption_source
from uvc_data.configurable import fingerprint as config_fingerprint
from uvc_data.configurable import neutral, to_dict, validate
from uvc_data.errors import ConfigError, UnknownNameError
from uvc_data.filters import DEFAULT_CLIP_FILTERS, DEFAULT_TASK_FILTERS, FILTERS
from uvc_data.sample import VideoInput
from uvc_data.steps.split import SplitConfig
from uvc_data.tasks import all_tasks, get_task
from uvc_data.writer import BuildSummary, ExecutorConfig, WriterConfig, discover_inputs, run_build
from uvc_data.writer.store import Store

SCHEMA = "uvc-build-config/1"
log = logging.getLogger("pipelines.build")


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
    executor: ExecutorConfig = neutral("who runs the stages and how a rerun resumes", default_factory=ExecutorConfig)
    stages: StagesConfig = neutral("resources per stage", default_factory=StagesConfig)

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
    """What decides the content of staged samples: every field not declared neutral (uvc_data.configurable)."""
    return config_fingerprint(cfg, schema=SCHEMA)


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
    """Build (or resume) a dataset in `out_dir` (a folder or a URL such as s3://bucket/prefix) from input files /
    folders / globs / list files / URLs (`limit`: only the first N inputs)."""
    validate(cfg)
    videos = select_inputs(inputs, limit)
    if cfg.caption.backend == "sidecar":
        missing = check_caption_source([v.path for v in videos], cfg.caption)  # before any work: fail with options
        if missing:
            log.warning("%d of %d inputs have no sidecar caption; their clips will be rejected (first: %s)",
                        len(missing), len(videos), missing[0])
    store = Store(str(out_dir), cfg.writer.staging_dir)  # a local folder or a URL (s3://bucket/prefix)
    store.prepare()
    store.write_bytes("config.json", (json.dumps(to_dict(cfg), indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return run_build(videos, make_stages(cfg), out_dir, cfg.executor, cfg.writer, fingerprint(cfg),
                     stage_fingerprints(cfg), annotator_fingerprints(cfg))
