"""Small real steps for the writer/executor tests: a source that reads a tiny JSON spec (or a real mp4) and yields
Samples, annotators, filters, a 1→2 splitter, a step that raises, and a slow one. Module-level factories so Ray
workers can import them."""
from __future__ import annotations

import json
import os
import time
from typing import Iterable, Iterator

import numpy as np

from uvc_data.errors import BadInputError
from uvc_data.remote import open_binary
from uvc_data.sample import Provenance, Sample, VideoInput
from uvc_data.steps.base import SampleStep, Step
from uvc_data.video.codec import decode_video


def _sample(vi: VideoInput, clip: int, frames: np.ndarray, fps: float, prompt: str) -> Sample:
    t, h, w, _ = frames.shape
    prov = Provenance(source=vi.path, source_id=vi.source_id, shot=0, clip=clip, start_s=clip * t / fps,
                      end_s=(clip + 1) * t / fps, src_fps=fps, src_width=w, src_height=h, input_index=vi.index)
    return Sample(key=f"{vi.source_id}_{clip:04d}", frames=frames, fps=fps, provenance=prov, prompt=prompt,
                  tasks=["t2v", "gray"])


class SpecSource(Step):
    """A .json spec {"clips", "frames", "height", "width", "seed", "brightness", "fail_at", "prompt", "hazard"} →
    Samples. hazard {"how": "exit" | "abort" | "hang", "at": clip}: the worker process exits (os._exit), aborts
    (os.abort, SIGABRT) or hangs before yielding that clip — what a native crash or a stuck decoder does."""

    name = "spec_source"

    def run(self, data: Iterable[VideoInput]) -> Iterator[Sample]:
        for vi in data:
            try:
                with open_binary(vi.path) as fh:  # a local path or a URL (s3://)
                    spec = json.loads(fh.read().decode("utf-8"))
            except (OSError, ValueError) as exc:
                raise BadInputError(f"{vi.path}: not a readable spec ({exc})") from exc
            rng = np.random.default_rng(spec.get("seed", 0))
            t, h, w = spec.get("frames", 4), spec.get("height", 32), spec.get("width", 48)
            for c in range(spec.get("clips", 2)):
                if spec.get("fail_at") == c:
                    raise BadInputError(f"{vi.path}: broken at clip {c}")
                hazard = spec.get("hazard") or {}
                if hazard.get("at") == c:
                    strike(hazard["how"])
                low = rng.integers(0, 256, (t, h // 8, w // 8, 3)).astype(np.float32)
                frames = np.clip(low.repeat(8, 1).repeat(8, 2) * spec.get("brightness", 1.0), 0, 255).astype(np.uint8)
                self.stats["clips"] += 1
                yield _sample(vi, c, frames, 8.0, spec.get("prompt", "a test clip") + f" {c}")


class Mp4Source(Step):
    """A real video file → clips of `clip_frames` frames (decoded with PyAV)."""

    name = "mp4_source"

    def __init__(self, clip_frames: int = 8):
        super().__init__()
        self.clip_frames = clip_frames

    def run(self, data: Iterable[VideoInput]) -> Iterator[Sample]:
        for vi in data:
            with open_binary(vi.path) as fh:
                frames, fps = decode_video(fh.read())
            for c in range(len(frames) // self.clip_frames):
                yield _sample(vi, c, frames[c * self.clip_frames:(c + 1) * self.clip_frames], fps, f"video clip {c}")


class Brightness(SampleStep):
    name = "brightness"

    def process(self, sample: Sample) -> Sample:
        sample.signals["brightness"] = float(sample.frames.mean() / 255.0)
        return sample


class GrayControl(SampleStep):
    name = "gray_control"

    def process(self, sample: Sample) -> Sample:
        gray = sample.frames.mean(axis=-1, keepdims=True).astype(np.uint8)
        sample.conditions["gray"] = np.repeat(gray, 3, axis=-1)
        return sample


class DarkFilter(SampleStep):
    """Clip-level reject below a brightness; drops the gray task from odd clips (a task-level reject)."""

    name = "dark_filter"

    def __init__(self, threshold: float = 0.2):
        super().__init__()
        self.threshold = threshold

    def process(self, sample: Sample) -> Sample:
        if sample.signals["brightness"] < self.threshold:
            sample.reject("clip", f"too dark {sample.signals['brightness']:.4f} < {self.threshold}")
        elif sample.provenance.clip % 2:
            sample.reject("gray", "odd clip")
        return sample


class DropLast(SampleStep):
    """Drops (returns None) every clip numbered 2 (mod 3): exercises the dropped path."""

    name = "drop_last"

    def process(self, sample: Sample) -> Sample | None:
        return None if sample.provenance.clip % 3 == 2 else sample


class Halves(Step):
    """1 → 2: each sample becomes its first and second half (keys suffixed a / b)."""

    name = "halves"

    def run(self, data: Iterable[Sample]) -> Iterator[Sample]:
        for s in data:
            half = s.num_frames // 2
            for tag, part in (("a", s.frames[:half]), ("b", s.frames[half:])):
                yield Sample(key=f"{s.key}{tag}", frames=part, fps=s.fps, provenance=s.provenance, prompt=s.prompt,
                             conditions={}, tasks=list(s.tasks), rejected=dict(s.rejected), signals=dict(s.signals))


class Explode(SampleStep):
    """Raises for a sample whose prompt contains "explode": a failure in a later stage."""

    name = "explode"

    def process(self, sample: Sample) -> Sample:
        if "explode" in sample.prompt:
            raise RuntimeError(f"annotator crashed on {sample.key}")
        return sample


def strike(how: str) -> None:
    if how == "exit":
        os._exit(3)
    if how == "abort":
        os.abort()
    if how == "hang":
        time.sleep(3600)
    raise ValueError(f"unknown hazard {how!r}")


class LaterHazard(SampleStep):
    """In a later stage: strikes (exit / abort / hang) on a sample whose prompt starts with "hazard:<how>"."""

    name = "later_hazard"

    def process(self, sample: Sample) -> Sample:
        if sample.prompt.startswith("hazard:"):
            strike(sample.prompt.split(":")[1].split()[0])
        return sample


def hazard_stage() -> list[Step]:
    return [LaterHazard(), GrayControl()]


class Slow(SampleStep):
    name = "slow"

    def __init__(self, seconds: float):
        super().__init__()
        self.delay = seconds

    def process(self, sample: Sample) -> Sample:
        time.sleep(self.delay)
        return sample


def source_stage() -> list[Step]:
    return [SpecSource()]


def annotate_stage() -> list[Step]:
    return [Brightness(), Explode(), GrayControl(), DarkFilter(0.2), DropLast()]


def split_stage() -> list[Step]:
    return [Halves()]


def write_spec(path, **spec) -> str:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(spec, fh)
    return str(path)


def slow_annotate_factory(delay: float):
    """A picklable factory for an annotate stage with a Slow step (a module-level class instance is picklable)."""
    return _SlowAnnotate(delay)


class _SlowAnnotate:
    def __init__(self, delay: float):
        self.delay = delay

    def __call__(self) -> list[Step]:
        return annotate_stage() + [Slow(self.delay)]
