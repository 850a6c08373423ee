"""Executors run the stages over the inputs still to do and feed every terminal envelope to the Collector.

local: all stages in this process, one input at a time, samples streaming depth-first (bounded memory).
ray:   one Ray Data operator per stage (actor pools), then a staging-writer operator; backpressure from Ray Data's
       streaming executor. Steps never import Ray.
"""
from __future__ import annotations

from typing import Callable

from uvc_data.sample import VideoInput
from uvc_data.writer.config import ExecutorConfig, WriterConfig
from uvc_data.writer.stages import Envelope, StageSpec

Sink = Callable[[Envelope], None]


def execute(todo: list[VideoInput], stages: list[StageSpec], out_root: str, writer: WriterConfig,
            cfg: ExecutorConfig, sink: Sink) -> None:
    if not todo:
        return
    if cfg.kind == "local":
        from uvc_data.writer.executors.local import run_local

        run_local(todo, stages, out_root, writer, sink)
    else:
        from uvc_data.writer.executors.ray_data import run_ray

        run_ray(todo, stages, out_root, writer, cfg, sink)
