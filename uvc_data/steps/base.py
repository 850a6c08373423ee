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

    def run_batch(self, records: list[Any]) -> list[list[Any]]:
        """What each of `records` became (its outputs, in order): what executors call when they hand a stage
        several records at once. Default: each record through `run` on its own."""
        return [list(self.run([r])) for r in records]


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


class BatchSampleStep(SampleStep):
    """A SampleStep whose model works on several samples in one call (a padded generate, a request pool):
    `process_batch` gets up to `batch_size` samples, from `run` (chunks of the stream) or from an executor
    (`run_batch`, the whole batch it was handed)."""

    def __init__(self, batch_size: int = 1) -> None:
        super().__init__()
        self.batch_size = max(1, int(batch_size))

    @abstractmethod
    def process_batch(self, samples: list[Sample]) -> list[Sample | None]:
        """One result per sample, in order: the sample (possibly changed), or None to drop it."""

    def process(self, sample: Sample) -> Sample | None:
        return self.process_batch([sample])[0]

    def _timed(self, samples: list[Sample]) -> list[Sample | None]:
        t0 = time.perf_counter()
        outs = self.process_batch(samples)
        self.seconds += time.perf_counter() - t0
        self.stats["in"] += len(samples)
        self.stats["out"] += sum(o is not None for o in outs)
        return outs

    def run(self, data: Iterable[Sample]) -> Iterator[Sample]:
        chunk: list[Sample] = []
        for sample in data:
            chunk.append(sample)
            if len(chunk) == self.batch_size:
                yield from (o for o in self._timed(chunk) if o is not None)
                chunk = []
        if chunk:
            yield from (o for o in self._timed(chunk) if o is not None)

    def run_batch(self, records: list[Sample]) -> list[list[Sample]]:
        return [[o] if o is not None else [] for o in self._timed(list(records))]


def run_chain_batch(steps: list[Step], records: list[Any]) -> list[list[Any]]:
    """`records` through every step together (each step's `run_batch` sees all that is left), then what each record
    became, in order: outputs grouped by the record they descend from."""
    groups: list[list[Any]] = [[r] for r in records]
    for step in steps:
        flat = [r for g in groups for r in g]
        outs = iter(step.run_batch(flat)) if flat else iter(())
        groups = [[o for _ in g for o in next(outs)] for g in groups]
    return groups


def run_chain(steps: list[Step], data: Iterable[Any]) -> Iterator[Any]:
    """Compose steps lazily: records stream through, one at a time (bounded memory)."""
    stream: Iterable[Any] = data
    for step in steps:
        stream = step.run(stream)
    yield from stream
