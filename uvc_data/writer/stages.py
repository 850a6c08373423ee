"""Stages (groups of steps that share a worker) and the envelope that carries records between them.

Every record between stages is an `Envelope`. Its `lineage` names a sample independently of who processed it:
(i,) for the i-th sample the first stage yielded for an input, then one sub-index per later stage (j of n outputs that
stage made from it). Sorting by lineage gives the same order on every executor, so local and Ray builds pack the same
shards. `weight` (1 for a first-stage sample, divided by n at each 1→n split) lets the collector know when every
descendant of an input has come back: the weights of its terminal envelopes sum to the number of first-stage samples.
"""
from __future__ import annotations

import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Iterable, Iterator

from uvc_data.errors import ConfigError, is_infrastructure
from uvc_data.sample import Sample, VideoInput
from uvc_data.steps.base import Step, run_chain, run_chain_batch
from uvc_data.writer.placement import check_gpu_placement
from uvc_data.writer.transport import PackedSample, Transport

# Envelope kinds. "input" enters the first stage; "sample" flows between stages (payload: a Sample, or with a
# transport a transport.PackedSample — the sample as bytes); the rest are terminal for the
# collector: "end" (the first stage finished an input: payload = number of samples it yielded), "staged" (payload =
# the sample's manifest record), "dropped" (a later stage yielded nothing for it), "failed" (payload = failure record;
# from the first stage it also carries "emitted", the samples yielded before the error, and lineage (emitted,)).
INPUT, SAMPLE, END, STAGED, DROPPED, FAILED = "input", "sample", "end", "staged", "dropped", "failed"


@dataclass
class StageSpec:
    """A group of steps run by one worker kind. `factory` builds fresh steps inside each worker (models load there).

    num_gpus > 0 makes the Ray executor ask for GPUs for this stage's actors; 0 never asks. `concurrency` is a fixed
    actor-pool size or (min, max) for an autoscaling pool. `lazy_frames`: a sample that arrives as bytes (Ray) gets
    its clip as a `transport.LazyFrames`, decoded frame by frame as the steps index it (the caption stage: only the
    frames the captioner samples are decoded); otherwise the clip is decoded whole before the steps run.
    `batch_size` (later stages only): samples handed to the steps together (StageRunner.process_batch), e.g. clips
    per captioning call.
    """

    name: str
    factory: Callable[[], list[Step]]
    num_cpus: float = 1.0
    num_gpus: float = 0.0
    concurrency: int | tuple[int, int] = 1
    lazy_frames: bool = False
    batch_size: int = 1

    def validate(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise ConfigError("stage.name", f"{self.name!r}: use letters, digits, '_' or '-'")
        if self.num_cpus < 0 or self.num_gpus < 0:
            raise ConfigError(f"stage {self.name}.num_cpus/num_gpus", "must be >= 0")
        sizes = (self.concurrency,) if isinstance(self.concurrency, int) else tuple(self.concurrency)
        if len(sizes) not in (1, 2) or min(sizes) < 1 or sizes[0] > sizes[-1]:
            raise ConfigError(f"stage {self.name}.concurrency", f"{self.concurrency!r}: give n >= 1 or (min, max)")
        if self.batch_size < 1:
            raise ConfigError(f"stage {self.name}.batch_size", f"{self.batch_size}: must be >= 1")


@dataclass
class Envelope:
    kind: str
    source_id: str
    index: int  # the input's position (VideoInput.index)
    lineage: tuple[int, ...] = ()
    weight: Fraction = Fraction(1)
    payload: Any = None
    seconds: dict[str, float] = field(default_factory=dict)  # stage, and "stage/step", → seconds spent on this record
    stats: dict[str, dict[str, int]] = field(default_factory=dict)  # "stage/step" → counter delta

    @classmethod
    def for_input(cls, vi: VideoInput) -> "Envelope":
        return cls(INPUT, vi.source_id, vi.index, payload=vi)

    def derive(self, kind: str, payload: Any, lineage: tuple[int, ...] | None = None,
               weight: Fraction | None = None) -> "Envelope":
        return Envelope(kind, self.source_id, self.index, self.lineage if lineage is None else lineage,
                        self.weight if weight is None else weight, payload)

    def add_cost(self, stage: str, seconds: float, stats: dict[str, dict[str, int]],
                 step_seconds: dict[str, float] | None = None) -> "Envelope":
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds
        for name, s in (step_seconds or {}).items():
            self.seconds[name] = self.seconds.get(name, 0.0) + s
        for name, counts in stats.items():
            merged = Counter(self.stats.get(name, {}))
            merged.update(counts)
            self.stats[name] = dict(merged)
        return self


def failure_record(stage: str, exc: BaseException) -> dict[str, Any]:
    """Why an input failed: error type, message, and the last frames of the traceback (where it happened)."""
    frames = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-6)
    return {"stage": stage, "error": type(exc).__name__, "message": str(exc), "traceback": "".join(frames)[-4000:]}


class StageRunner:
    """Runs one stage's steps on envelopes; the same code under the local loop and inside a Ray actor.

    With a `transport` every sample leaves the stage packed (`transport.PackedSample`: bytes, no arrays) and packed
    samples are opened on arrival; without one samples pass as objects (the local executor's default)."""

    def __init__(self, spec: StageSpec, first: bool, transport: Transport | None = None):
        self.spec = spec
        self.first = first
        self.transport = transport
        self.transport_seconds = 0.0  # packing and opening, reported as the "<stage>/transport" step
        self.steps = list(spec.factory())
        for step in self.steps:
            step.setup()
        check_gpu_placement(spec.name, spec.num_gpus, self.steps)  # a GPU stage whose model landed on the CPU fails

    def _snapshot(self) -> list[tuple[Counter, float]]:
        self._transport_before = self.transport_seconds
        return [(Counter(s.stats), s.seconds) for s in self.steps]

    def _step_seconds(self, before: list[tuple[Counter, float]]) -> dict[str, float]:
        """"stage/step" → seconds each step spent since `before` (lazy chains: a step's time excludes the steps
        before it, which SampleStep times separately), and "stage/transport" for packing and opening samples."""
        out = {f"{self.spec.name}/{step.name}": step.seconds - s0
               for step, (_, s0) in zip(self.steps, before) if step.seconds - s0 > 0}
        if self.transport_seconds > self._transport_before:
            out[f"{self.spec.name}/transport"] = self.transport_seconds - self._transport_before
        return out

    def _cost(self, spent: float, before: list[tuple[Counter, float]]) -> tuple:
        return self.spec.name, spent, self._delta(before), self._step_seconds(before)

    def _pack(self, sample: Sample) -> Sample | PackedSample:
        if self.transport is None:
            return sample
        t0 = time.perf_counter()
        packed = self.transport.pack(sample)
        self.transport_seconds += time.perf_counter() - t0
        return packed

    def _open(self, payload: Sample | PackedSample) -> Sample:
        if not isinstance(payload, PackedSample):
            return payload
        if self.transport is None:
            raise ValueError(f"stage {self.spec.name} got a packed sample but has no transport to open it")
        t0 = time.perf_counter()
        sample = self.transport.open(payload, lazy_frames=self.spec.lazy_frames)
        self.transport_seconds += time.perf_counter() - t0
        return sample

    def _delta(self, before: list[tuple[Counter, float]]) -> dict[str, dict[str, int]]:
        out = {}
        for step, (counts, _) in zip(self.steps, before):
            diff = Counter(step.stats)
            diff.subtract(counts)
            kept = {k: v for k, v in diff.items() if v}
            if kept:
                out[f"{self.spec.name}/{step.name}"] = kept
        return out

    def process(self, env: Envelope) -> Iterator[Envelope]:
        if env.kind == INPUT and self.first:
            yield from self._run_input(env)
        elif env.kind == SAMPLE and not self.first:
            yield from self._run_sample(env)
        elif env.kind in (END, STAGED, DROPPED, FAILED):
            yield env
        else:
            raise ValueError(f"stage {self.spec.name} (first={self.first}) got a {env.kind!r} envelope")

    def _run_input(self, env: Envelope) -> Iterator[Envelope]:
        """Stream the samples of one input; time only the chain, not the consumer. Always ends with END or FAILED."""
        before, spent, n = self._snapshot(), 0.0, 0
        stream = run_chain(self.steps, [env.payload])
        while True:
            t0 = time.perf_counter()
            try:
                sample = next(stream)
            except StopIteration:
                spent += time.perf_counter() - t0
                break
            except Exception as exc:  # any failure of the chain fails this input only
                spent += time.perf_counter() - t0
                failure = failure_record(self.spec.name, exc) | {"emitted": n}  # the input's END, in effect
                yield env.derive(FAILED, failure, lineage=(n,)).add_cost(*self._cost(spent, before))
                return
            try:
                packed = self._pack(sample)
            except Exception as exc:  # a clip that cannot be encoded fails its input, like a step raising
                spent += time.perf_counter() - t0
                failure = failure_record(self.spec.name, exc) | {"emitted": n}
                yield env.derive(FAILED, failure, lineage=(n,)).add_cost(*self._cost(spent, before))
                return
            spent += time.perf_counter() - t0
            yield env.derive(SAMPLE, packed, lineage=(n,), weight=Fraction(1))
            n += 1
        yield env.derive(END, n).add_cost(*self._cost(spent, before))

    def stream(self, envs: Iterable[Envelope]) -> Iterator[Envelope]:
        """`process` over a stream, sample envelopes gathered `spec.batch_size` at a time (process_batch); other
        envelopes pass on at once. With batch_size 1 it is `process` on each, in order."""
        batch: list[Envelope] = []
        for env in envs:
            if env.kind == SAMPLE and not self.first and self.spec.batch_size > 1:
                batch.append(env)
                if len(batch) == self.spec.batch_size:
                    yield from self.process_batch(batch)
                    batch = []
            else:
                yield from self.process(env)
        if batch:
            yield from self.process_batch(batch)

    def process_batch(self, envs: list[Envelope]) -> Iterator[Envelope]:
        """Several envelopes at once: their samples go through the steps together (run_chain_batch). The batch's
        time is shared evenly, its counters travel with the first. A failure of the machinery fails every input of
        the batch; any other failure runs each sample again alone, so it lands on its own input only."""
        samples = [e for e in envs if e.kind == SAMPLE and not self.first]
        for env in envs:
            if env.kind != SAMPLE or self.first:
                yield from self.process(env)
        if len(samples) <= 1:
            for env in samples:
                yield from self._run_sample(env)
            return
        before, t0 = self._snapshot(), time.perf_counter()
        try:
            opened = [self._open(e.payload) for e in samples]  # packed samples (Ray) are opened on arrival
            groups = [[self._pack(s) for s in outs] for outs in run_chain_batch(self.steps, opened)]
        except Exception as exc:
            if not is_infrastructure(exc):
                for env in samples:
                    yield from self._run_sample(env)
                return
            name, spent, delta, step_s = self._cost(time.perf_counter() - t0, before)
            for i, env in enumerate(samples):
                yield env.derive(FAILED, failure_record(self.spec.name, exc)).add_cost(
                    *self._share(name, spent, delta, step_s, i, len(samples)))
            return
        name, spent, delta, step_s = self._cost(time.perf_counter() - t0, before)
        for i, (env, outs) in enumerate(zip(samples, groups)):
            yield from self._emit(env, outs, self._share(name, spent, delta, step_s, i, len(samples)))

    @staticmethod
    def _share(name: str, spent: float, delta: dict, step_s: dict[str, float], i: int, n: int) -> tuple:
        return name, spent / n, delta if i == 0 else {}, {k: v / n for k, v in step_s.items()}

    def _run_sample(self, env: Envelope) -> Iterator[Envelope]:
        before, t0 = self._snapshot(), time.perf_counter()
        try:
            outs = [self._pack(s) for s in run_chain(self.steps, [self._open(env.payload)])]
        except Exception as exc:
            yield env.derive(FAILED, failure_record(self.spec.name, exc)).add_cost(
                *self._cost(time.perf_counter() - t0, before))
            return
        yield from self._emit(env, outs, self._cost(time.perf_counter() - t0, before))

    def _emit(self, env: Envelope, outs: list[Sample | PackedSample], cost: tuple) -> Iterator[Envelope]:
        if not outs:
            yield env.derive(DROPPED, None).add_cost(*cost)
            return
        for j, sample in enumerate(outs):
            out = env.derive(SAMPLE, sample, lineage=env.lineage + (j,), weight=env.weight / len(outs))
            if j == 0:  # costs so far travel with the first descendant only: summed once by the collector
                out.seconds, out.stats = dict(env.seconds), dict(env.stats)
                out.add_cost(*cost)
            yield out
