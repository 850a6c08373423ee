"""The annotator family base: one condition per annotator, a backend loaded once per worker, the loop written once.

Contract (stage 5 of the builder): an annotator ADDS `sample.conditions[condition]` for samples whose remaining tasks
need it (registry `TaskDef.needs`), records measurements in `sample.signals`, and only ever REMOVES tasks:
- backend cannot load (missing weights / dependency / broken file): reported once (log + `stats["unavailable"]`),
  then every task needing the condition is rejected with "condition <c> unavailable: <why>" — nothing is faked;
- a per-sample exception rejects that sample's tasks needing the condition with "error: ..."; the run goes on;
- an infrastructure failure (uvc_data.errors.is_infrastructure: CUDA out of memory, a timeout, a model that fails
  to load for a reason other than a missing file) is raised instead: it fails the input, which `--retry-failed`
  redoes, and is never recorded as a verdict on the clip; a failed load is tried again for the next input;
- `NothingToAnnotate` (e.g. no subject for reference images) rejects them with "no <c>: <why>";
- no remaining task needs the condition, or it is already there: the sample passes through untouched.
"""
from __future__ import annotations

import logging
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from uvc_data.errors import BadInputError, ConfigError, is_infrastructure
from uvc_data.sample import INPAINT_MASK, OUTPAINT_MASK, REF_IMAGES, Sample
from uvc_data.steps.base import SampleStep
from uvc_data.tasks import CONTROL_CONDITIONS, get_task

log = logging.getLogger("uvc_data.annotators")


class NothingToAnnotate(Exception):
    """The clip holds nothing this annotator can produce a condition from (e.g. no subject); the message says why."""


@dataclass
class AnnotatorConfig:
    """Fields every annotator config has. Subclasses add their backend's weights and parameters."""

    backend: str = ""

    backends: ClassVar[tuple[str, ...]] = ()

    def validate(self) -> None:
        if self.backends and self.backend not in self.backends:
            raise ConfigError("backend", f"{self.backend!r} is not one of {list(self.backends)}")


def one_line(exc: BaseException) -> str:
    """An exception as one line (reasons are stored per sample in JSON metadata)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def needs_condition(sample: Sample, condition: str) -> list[str]:
    """The sample's remaining tasks that need `condition`."""
    return [t for t in sample.tasks if condition in get_task(t).needs]


def check_condition(condition: str, value: Any, sample: Sample) -> None:
    """Raise BadInputError when `value` does not follow the shard format for `condition` (uvc_data.shards)."""
    t, h, w = sample.num_frames, *sample.size
    if condition in CONTROL_CONDITIONS:
        expected: tuple[int, ...] = (t, h, w, 3)
    elif condition in (OUTPAINT_MASK, INPAINT_MASK):
        expected = (t, h, w)
    elif condition == REF_IMAGES:
        if not isinstance(value, list) or not value:
            raise BadInputError(f"{condition}: expected a non-empty list of images, got {type(value).__name__}")
        for i, img in enumerate(value):
            if not isinstance(img, np.ndarray) or img.shape != (h, w, 3) or img.dtype != np.uint8:
                raise BadInputError(f"{condition}[{i}]: expected ({h}, {w}, 3) uint8 on a white canvas")
        return
    else:
        raise BadInputError(f"unknown condition {condition!r}")
    if not isinstance(value, np.ndarray) or value.shape != expected or value.dtype != np.uint8:
        got = (value.shape, value.dtype) if isinstance(value, np.ndarray) else type(value).__name__
        raise BadInputError(f"{condition}: expected {expected} uint8, got {got}")


class Annotator(SampleStep):
    """Base of every annotator. A subclass sets `name`, `condition`, and writes `load()` and `annotate()`."""

    name: ClassVar[str] = "annotator"
    condition: ClassVar[str] = ""

    def __init__(self, config: AnnotatorConfig) -> None:
        super().__init__()
        self.config = config
        self.model: Any = None
        self.unavailable: str | None = None  # why the backend could not load, once known
        self._loaded = False

    @property
    def backend(self) -> str:
        return self.config.backend

    @abstractmethod
    def load(self) -> Any:
        """Load the backend (model weights, sessions) and return it. Raise MissingWeightsError /
        MissingDependencyError (or anything else) when it cannot: the base reports it once and rejects."""

    @abstractmethod
    def annotate(self, sample: Sample) -> Any:
        """The condition value for this sample (shard format); may write `sample.signals`. Uses `self.model`."""

    def setup(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        try:
            self.model = self.load()
        except Exception as exc:  # reported once, then every needing task is rejected with this reason
            if is_infrastructure(exc):
                self._loaded = False  # e.g. CUDA out of memory while loading: fail this input, try again later
                raise
            self.unavailable = one_line(exc)
            self.stats["unavailable"] = 1
            log.error("annotator %r (condition %r, backend %r) is unavailable; tasks needing %r will be rejected: %s",
                      self.name, self.condition, self.backend, self.condition, exc)

    def devices(self) -> dict[str, str]:
        device = getattr(self.model, "device", None) if self.model is not None else None
        return {f"{self.name} ({self.backend})": str(device)} if device is not None else {}

    def process(self, sample: Sample) -> Sample:
        needing = needs_condition(sample, self.condition)
        if not needing:
            self.stats["skipped"] += 1
            return sample
        if self.condition in sample.conditions:
            self.stats["present"] += 1
            return sample
        self.setup()
        if self.unavailable is not None:
            self._reject(sample, needing, f"condition {self.condition} unavailable: {self.unavailable}")
            self.stats["rejected_unavailable"] += 1
            return sample
        try:
            value = self.annotate(sample)
            check_condition(self.condition, value, sample)
        except NothingToAnnotate as exc:
            self._reject(sample, needing, f"no {self.condition}: {exc}")
            self.stats["nothing"] += 1
            return sample
        except Exception as exc:  # one bad sample never stops the run
            if is_infrastructure(exc):
                raise
            log.warning("annotator %r failed on sample %s: %s", self.name, sample.key, one_line(exc))
            self._reject(sample, needing, f"error: {one_line(exc)}")
            self.stats["errors"] += 1
            return sample
        sample.conditions[self.condition] = value
        self.stats["annotated"] += 1
        return sample

    @staticmethod
    def _reject(sample: Sample, tasks: list[str], reason: str) -> None:
        for t in tasks:
            sample.reject(t, reason)
