"""The local executor: every stage in this process; each input's samples stream through all stages one by one
(depth-first). A stage with batch_size > 1 gathers that many samples, across inputs, before running them together."""
from __future__ import annotations

from typing import Iterable, Iterator

from uvc_data.sample import VideoInput
from uvc_data.writer.background import OrderedWorker
from uvc_data.writer.config import WriterConfig
from uvc_data.writer.stages import Envelope, StageRunner, StageSpec
from uvc_data.writer.staging import StagingWriter


def _through(runners: list[StageRunner], envs: Iterable[Envelope]) -> Iterator[Envelope]:
    """Lazily chained: a sample reaches the last stage before the first stage makes the next one (batching stages
    hold up to their batch_size samples)."""
    stream: Iterable[Envelope] = envs
    for runner in runners:
        stream = runner.stream(stream)
    yield from stream


def run_local(todo: list[VideoInput], stages: list[StageSpec], out_root: str, writer: WriterConfig,
              sink) -> None:
    runners = [StageRunner(spec, first=(i == 0)) for i, spec in enumerate(stages)]
    staging = StagingWriter(out_root, writer)
    # staging (x264 encoding) runs on one background thread, in order, overlapping with the next sample's stages
    with OrderedWorker(lambda env: sink(staging.process(env)), writer.encode_ahead) as stage:
        for env in _through(runners, (Envelope.for_input(vi) for vi in todo)):
            stage.submit(env)
