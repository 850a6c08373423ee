"""The filter family base (stage 6 of the builder): filters only ever REMOVE tasks and say why.

- `Filter.check(sample) -> str | None`: a reason rejects the whole clip (`sample.reject("clip", "<name>: <reason>")`);
  the sample is still passed on so the writer can record the rejection.
- `TaskFilter.check_task(sample, task) -> str | None`: a reason rejects that one task ("<name>: <reason>").
Measurements go into `sample.signals`. A sample with no tasks left passes through untouched. An exception inside a
check rejects (clip or task) with "<name>: error: ..." and the run goes on — except an infrastructure failure
(uvc_data.errors.is_infrastructure: an endpoint down after retries, CUDA out of memory, a timeout), which is raised
and fails the input so `--retry-failed` can redo it. `setup()` loads models once per worker;
if that fails it is reported once and clips are rejected with "<name> unavailable: <why>".
"""
from __future__ import annotations

import logging
from abc import abstractmethod
from typing import Any, ClassVar

from uvc_data.annotators.base import one_line
from uvc_data.errors import is_infrastructure
from uvc_data.annotators.registry import Registry
from uvc_data.sample import Sample
from uvc_data.steps.base import SampleStep
from uvc_data.tasks import TaskDef, get_task

log = logging.getLogger("uvc_data.filters")

FILTERS: Registry[Any] = Registry("filter")


class Filter(SampleStep):
    """Clip-level filter: write `check()`."""

    name: ClassVar[str] = "filter"

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config
        self.unavailable: str | None = None  # why load() failed, once known
        self._loaded = False

    def load(self) -> None:
        """Load models (called once, lazily, before the first sample with tasks)."""

    def setup(self) -> None:
        """Load once. A failure is reported once (log + stats["unavailable"]) and every clip it would have judged is
        then rejected with "<name> unavailable: <why>" — a filter that cannot judge never waves clips through."""
        if self._loaded:
            return
        self._loaded = True
        try:
            self.load()
        except Exception as exc:
            if is_infrastructure(exc):
                self._loaded = False
                raise
            self.unavailable = one_line(exc)
            self.stats["unavailable"] = 1
            log.error("filter %r is unavailable; clips reaching it will be rejected: %s", self.name, exc)

    def _ready(self, sample: Sample) -> bool:
        """Frames present and the model loaded; otherwise the clip is rejected with the reason."""
        if sample.frames is None or sample.num_frames == 0:
            sample.reject("clip", f"{self.name}: the clip has no frames")
        else:
            self.setup()
            if self.unavailable is None:
                return True
            sample.reject("clip", f"{self.name} unavailable: {self.unavailable}")
        self.stats["rejected"] += 1
        return False

    @abstractmethod
    def check(self, sample: Sample) -> str | None:
        """None to keep the clip, or why it is rejected."""

    def process(self, sample: Sample) -> Sample:
        if not sample.tasks:
            self.stats["skipped"] += 1
            return sample
        if not self._ready(sample):
            return sample
        try:
            reason = self.check(sample)
        except Exception as exc:  # one bad sample never stops the run
            if is_infrastructure(exc):
                raise
            log.warning("filter %r failed on sample %s: %s", self.name, sample.key, one_line(exc))
            self.stats["errors"] += 1
            reason = f"error: {one_line(exc)}"
        if reason:
            sample.reject("clip", f"{self.name}: {reason}")
            self.stats["rejected"] += 1
        else:
            self.stats["passed"] += 1
        return sample


class TaskFilter(Filter):
    """Per-task filter: write `check_task()`; `prepare()` may compute what all tasks share once per sample."""

    def prepare(self, sample: Sample) -> None:
        """Per-sample work shared by the tasks (called once before `check_task`)."""

    @abstractmethod
    def check_task(self, sample: Sample, task: TaskDef) -> str | None:
        """None to keep `task` for this sample, or why it is rejected."""

    def check(self, sample: Sample) -> str | None:  # not used: tasks are judged one by one
        return None

    def process(self, sample: Sample) -> Sample:
        if not sample.tasks:
            self.stats["skipped"] += 1
            return sample
        if not self._ready(sample):
            return sample
        try:
            self.prepare(sample)
            verdicts = [(t, self.check_task(sample, get_task(t))) for t in list(sample.tasks)]
        except Exception as exc:
            if is_infrastructure(exc):
                raise
            log.warning("filter %r failed on sample %s: %s", self.name, sample.key, one_line(exc))
            self.stats["errors"] += 1
            sample.reject("clip", f"{self.name}: error: {one_line(exc)}")
            return sample
        for task, reason in verdicts:
            if reason:
                sample.reject(task, f"{self.name}: {reason}")
                self.stats[f"rejected_{task}"] += 1
        self.stats["passed" if sample.tasks else "rejected"] += 1
        return sample
