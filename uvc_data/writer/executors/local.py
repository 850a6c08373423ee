"""The local executor: every stage in this process; each input's samples stream through all stages one by one."""
from __future__ import annotations

from typing import Iterator

from uvc_data.sample import VideoInput
from uvc_data.writer.background import OrderedWorker
from uvc_data.writer.config import WriterConfig
from uvc_data.writer.executors import OutSpec, Sink, commit
from uvc_data.writer.stages import Envelope, StageRunner, StageSpec
from uvc_data.writer.staging import StagingWriter
from uvc_data.writer.transport import Transport


def _through(runners: list[StageRunner], env: Envelope) -> Iterator[Envelope]:
    """Depth-first: a sample reaches the last stage before the first stage makes the next one."""
    if not runners:
        yield env
        return
    for out in runners[0].process(env):
        yield from _through(runners[1:], out)


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
        for vi in todo:
            for env in _through(runners, Envelope.for_input(vi)):
                stage.submit(env)
