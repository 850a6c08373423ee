"""The step contract (datatrove-style): a step takes an iterator of records and yields records.

Steps never know who runs them (local loop or Ray worker) and never import Ray. Family bases implement the loop once:
a new annotator or filter is one small class with one method.
"""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import Counter
from typing import Any, ClassVar, Iterable, Iterator

from uvc_data.sample import Sample


class Step(ABC):
    """A pipeline stage. `stats` counts what it did; executors merge the counters of all workers."""

    name: ClassVar[str] = "step"

    def __init__(self) -> None:
        self.stats: Counter[str] = Counter()
        self.seconds: float = 0.0

    @abstractmethod
    def run(self, data: Iterable[Any]) -> Iterator[Any]:
        """Consume records, yield records."""

    def setup(self) -> None:
        """Load models etc. once per worker; called by executors before the first record."""

    def devices(self) -> dict[str, str]:
        """Where this step's models run after setup(): what → device ("cuda", "cuda:0", "cpu"); {} for none.
        Executors check it for stages given GPUs (a model that ended up on the CPU fails the stage at setup)."""
        return {}

    def __call__(self, data: Iterable[Any]) -> Iterator[Any]:
        return self.run(data)


class SampleStep(Step):
    """A step that maps each Sample to itself (annotated/changed) or drops it; timing and counting done here."""

    @abstractmethod
    def process(self, sample: Sample) -> Sample | None:
        """Return the sample (possibly changed), or None to drop it."""

    def run(self, data: Iterable[Sample]) -> Iterator[Sample]:
        for sample in data:
            t0 = time.perf_counter()
            out = self.process(sample)
            self.seconds += time.perf_counter() - t0
            self.stats["in"] += 1
            if out is not None:
                self.stats["out"] += 1
                yield out


def run_chain(steps: list[Step], data: Iterable[Any]) -> Iterator[Any]:
    """Compose steps lazily: records stream through, one at a time (bounded memory)."""
    stream: Iterable[Any] = data
    for step in steps:
        stream = step.run(stream)
    yield from stream
