"""The stage plan: which steps share a worker, and what each worker asks the cluster for.

  split     DecodeSplit → AssignTasks → cheap clip filters                                  CPU
  caption   captioner → optional LLM judge (before any annotator: a clip without a usable   GPU with a local VLM
            caption, or whose tasks the judge removed, costs no condition); caption.batch_size
            clips per call
  annotate  the CPU annotators (gray, scribble, masks, references; offline pose/flow)       CPU
  depth     Depth Anything              ┐ one stage per model, each its own Ray actor pool   GPU
  pose      DWPose (onnxruntime)        │ with (fractional) num_gpus, num_cpus and a fixed   GPU
  flow      RAFT                        ┘ or (min, max) autoscaling pool size               GPU
  the task-aware filters join the last stage (they read every annotator's signals).

Between stages a sample travels as bytes on the Ray executor (uvc_data.writer.transport): the clip losslessly
(or as the shard's H.264 with writer.transport.clip=shard), each condition as the shard's members, encoded by the
stage that made it. The caption stage decodes only the frames its captioner samples.

A model annotator gets a stage of its own when its model backend is configured (depth weights given, pose backend
dwpose, flow backend raft); otherwise it runs with the CPU annotators, in the configured order. Annotators only work
for the tasks still alive when a sample reaches them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from uvc_data.annotators import build_annotator
from uvc_data.captioners import CaptionStep
from uvc_data.errors import ConfigError
from uvc_data.filters import build_filter
from uvc_data.steps.assign import AssignTasks
from uvc_data.steps.base import Step
from uvc_data.steps.split import DecodeSplit
from uvc_data.writer import StageSpec

MODEL_STAGES = ("depth", "pose", "flow")


@dataclass
class StageResources:
    """What each actor of one stage asks Ray for, and how many actors (the local executor ignores all of it)."""

    num_cpus: float = 1.0
    num_gpus: float = 0.0  # fractional shares a GPU between actors (e.g. 0.25: four actors per GPU)
    workers: int = 1  # actors; the minimum of an autoscaling pool when max_workers > workers
    max_workers: int = 0  # 0: a fixed pool of `workers`; else autoscale between workers and max_workers

    def validate(self) -> None:
        if self.num_cpus < 0 or self.num_gpus < 0:
            raise ConfigError("num_cpus", "num_cpus and num_gpus must be ≥ 0")
        if self.workers < 1:
            raise ConfigError("workers", "must be ≥ 1")
        if self.max_workers and self.max_workers < self.workers:
            raise ConfigError("max_workers", f"{self.max_workers} < workers {self.workers} (0 = fixed pool)")

    @property
    def concurrency(self) -> int | tuple[int, int]:
        return (self.workers, self.max_workers) if self.max_workers > self.workers else self.workers


@dataclass
class StagesConfig:
    """Resources per stage for the Ray executor. Give GPU stages their share, e.g. stages.depth.num_gpus=0.5."""

    split: StageResources = field(default_factory=StageResources)
    caption: StageResources = field(default_factory=StageResources)
    annotate: StageResources = field(default_factory=StageResources)
    depth: StageResources = field(default_factory=StageResources)
    pose: StageResources = field(default_factory=StageResources)
    flow: StageResources = field(default_factory=StageResources)


def has_own_stage(name: str, options: dict | None) -> bool:
    """Whether the annotator `name` runs a model that deserves its own (GPU) stage with these options."""
    o = options or {}
    return {"depth": bool(o.get("weights")), "pose": o.get("backend") == "dwpose",
            "flow": o.get("backend") == "raft"}.get(name, False)


def _split_steps(cfg) -> list[Step]:
    return [DecodeSplit(cfg.split), AssignTasks(cfg.tasks),
            *(build_filter(n, cfg.filter_options.get(n)) for n in cfg.clip_filters)]


def caption_steps(cfg) -> list[Step]:
    steps: list[Step] = [CaptionStep(cfg.caption)]
    if cfg.judge:
        steps.append(build_filter("llm_judge", cfg.filter_options.get("llm_judge")))
    return steps


def _annotator_steps(cfg, names: tuple[str, ...], with_task_filters: bool) -> list[Step]:
    steps: list[Step] = [build_annotator(n, cfg.annotator_options.get(n)) for n in names]
    return steps + (task_filter_steps(cfg) if with_task_filters else [])


def task_filter_steps(cfg) -> list[Step]:
    return [build_filter(n, cfg.filter_options.get(n)) for n in cfg.task_filters]


def annotator_groups(cfg) -> list[tuple[str, tuple[str, ...]]]:
    """(stage name, its annotators in run order) after the caption stage: the CPU annotators' "annotate" stage
    (present even when empty, unless every annotator has a stage of its own), then one stage per model annotator
    whose model backend is configured. The task-aware filters join the last of them."""
    own = [n for n in cfg.annotators if n in MODEL_STAGES and has_own_stage(n, cfg.annotator_options.get(n))]
    cpu = tuple(n for n in cfg.annotators if n not in own)
    groups: list[tuple[str, tuple[str, ...]]] = [("annotate", cpu)] if cpu or not own else []
    return groups + [(n, (n,)) for n in own]


def make_stages(cfg) -> list[StageSpec]:
    """The BuildConfig's stage plan (see the module docstring). Factories are partials of module-level functions
    of the picklable config, so Ray workers build their own steps."""
    s: StagesConfig = cfg.stages
    groups = [(name, names, getattr(s, name)) for name, names in annotator_groups(cfg)]
    specs = [StageSpec("split", partial(_split_steps, cfg), s.split.num_cpus, s.split.num_gpus, s.split.concurrency),
             # the caption stage decodes only the frames its captioner samples (transport.LazyFrames)
             StageSpec("caption", partial(caption_steps, cfg), s.caption.num_cpus, s.caption.num_gpus,
                       s.caption.concurrency, lazy_frames=True, batch_size=cfg.caption.batch_size)]
    for i, (name, names, res) in enumerate(groups):
        last = i == len(groups) - 1
        specs.append(StageSpec(name, partial(_annotator_steps, cfg, names, last), res.num_cpus, res.num_gpus,
                               res.concurrency))
    return specs
