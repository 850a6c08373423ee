"""The local executor: every stage in this process; each input's samples stream through all stages one by one
(depth-first). A stage with batch_size > 1 gathers that many samples, across inputs, before running them together."""
from __future__ import annotations

from typing import Iterable, Iterator

from uvc_data.sample import VideoInput
from uvc_data.writer.background import OrderedWorker
from uvc_data.writer.config import WriterConfig
from uvc_data.writer.executors import OutSpec, Sink, commit
from uvc_data.writer.stages import Envelope, StageRunner, StageSpec
from uvc_data.writer.staging import StagingWriter
from uvc_data.writer.transport import Transport


def _through(runners: list[StageRunner], envs: Iterable[Envelope]) -> Iterator[Envelope]:
    """Lazily chained: a sample reaches the last stage before the first stage makes the next one (batching stages
    hold up to their batch_size samples)."""
    stream: Iterable[Envelope] = envs
    for runner in runners:
        stream = runner.stream(stream)
    yield from stream


def run_local(todo: list[VideoInput], ready: list[VideoInput], stages: list[StageSpec], out: OutSpec,
              writer: WriterConfig, sink: Sink) -> None:
    for vi in ready:
        commit(out, vi.source_id, writer)
    if not todo:
        return
    # samples pass as objects; a lossy transport ("shard") changes what later stages see, so it is applied here too
    transport = Transport.for_writer(writer) if writer.transport.clip != "lossless" else None
    runners = [StageRunner(spec, first=(i == 0), transport=transport) for i, spec in enumerate(stages)]
    staging = StagingWriter(out.staging, writer)

    def stage_and_commit(env: Envelope) -> None:
        if sink(staging.process(env)) == "done":
            commit(out, env.source_id, writer)  # this worker finished the input: it writes its shard group

    # staging (x264 encoding) and commits run on one background thread, in order, overlapping with the next
    # sample's stages
    with OrderedWorker(stage_and_commit, writer.encode_ahead) as stage:
        for env in _through(runners, (Envelope.for_input(vi) for vi in todo)):
            stage.submit(env)
