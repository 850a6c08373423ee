"""Executors run the stages over the inputs still to do, feed every terminal envelope to the Collector, and have
each input committed (its shard group, fragment and marker: uvc_data.writer.commit) by a worker once it is staged.

local: all stages in this process, one input at a time, samples streaming depth-first (bounded memory); the
       background staging thread commits each input as soon as its last sample is staged.
ray:   one Ray Data operator per stage (actor pools), then a staging-writer operator; backpressure from Ray Data's
       streaming executor; each staged input is committed by a Ray task. Steps never import Ray.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from uvc_data.sample import VideoInput
from uvc_data.writer.config import ExecutorConfig, WriterConfig
from uvc_data.writer.stages import Envelope, StageSpec

# the Collector's verdict on an envelope: "done" (its input is staged: commit it), "failed", or None
Sink = Callable[[Envelope], "str | None"]


@dataclass(frozen=True)
class OutSpec:
    """What a worker needs to rebuild the OutDir (plain strings: cheap to ship to Ray workers)."""

    root: str
    staging: str

    def open(self):
        from uvc_data.writer.layout import OutDir

        return OutDir(self.root, self.staging)


def commit(spec: OutSpec, source_id: str, writer: WriterConfig):
    """Commit one staged input (in whichever worker calls it)."""
    from uvc_data.writer.commit import commit_input

    return commit_input(spec.open(), source_id, writer)


def execute(todo: list[VideoInput], ready: list[VideoInput], stages: list[StageSpec], out: OutSpec,
            writer: WriterConfig, cfg: ExecutorConfig, sink: Sink) -> None:
    """Stage `todo` and commit every input the sink reports staged, and commit `ready` (staged by an earlier run)."""
    if not todo and not ready:
        return
    if cfg.kind == "local":
        from uvc_data.writer.executors.local import run_local

        run_local(todo, ready, stages, out, writer, sink)
    else:
        from uvc_data.writer.executors.ray_data import run_ray

        run_ray(todo, ready, stages, out, writer, cfg, sink)
