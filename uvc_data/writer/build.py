"""run_build: stage every input not yet staged, then pack shards + manifest + reports. Safe to kill and rerun.

Order of durable writes (each atomic): per sample a part tar → per input its done/failed marker → shards (in order)
→ manifest.parquet → failures.jsonl → stats.json. A rerun skips inputs with a marker, restages the rest from
scratch, and repacks everything, so its shards and manifest are byte-identical to an uninterrupted run's.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from uvc_data.configurable import validate
from uvc_data.errors import ConfigError
from uvc_data.sample import VideoInput
from uvc_data.writer import atomic
from uvc_data.writer.config import ExecutorConfig, WriterConfig
from uvc_data.writer.executors import execute
from uvc_data.writer.layout import OutDir, check_fingerprint
from uvc_data.writer.packer import pack
from uvc_data.writer.progress import Progress
from uvc_data.writer.report import BuildSummary, format_summary, summarise, write_reports
from uvc_data.writer.stages import StageSpec
from uvc_data.writer.staging import Collector, plan


def _check(inputs: list[VideoInput], stages: list[StageSpec]) -> None:
    if not stages:
        raise ConfigError("stages", "a build needs at least one stage (the first one turns VideoInputs into Samples)")
    for spec in stages:
        spec.validate()
    names = [s.name for s in stages]
    if len(set(names)) != len(names) or "write" in names:
        raise ConfigError("stages", f"stage names must be unique and not 'write' (the staging writer): {names}")
    ids = [vi.source_id for vi in inputs]
    if len(set(ids)) != len(ids):
        raise ConfigError("inputs", "two inputs share a source_id: build the list with discover_inputs()")


def run_build(inputs: list[VideoInput], stages: list[StageSpec], out_dir: str | Path, exec_cfg: ExecutorConfig,
              writer_cfg: WriterConfig, config_fingerprint: str) -> BuildSummary:
    """Build (or resume building) `out_dir` from `inputs` through `stages`. Failed inputs never stop the run."""
    validate(exec_cfg)
    validate(writer_cfg)
    _check(inputs, stages)
    t_start = time.perf_counter()
    out = OutDir(out_dir)
    out.prepare()
    out.lock()
    try:
        check_fingerprint(out, config_fingerprint, writer_cfg, exec_cfg.on_config_change)
        atomic.sweep_tmp(out.root)
        todo, already, skipped = plan(out, inputs, exec_cfg.retry_failed)
        note = (f"resuming: {already} inputs already staged, {skipped} failed earlier (skipped; "
                "set executor.retry_failed=true to retry)") if already or skipped else ""
        progress = Progress(len(todo), exec_cfg.quiet, note)
        collector = Collector(out, todo)

        def sink(env):
            progress.update(collector.feed(env), collector)

        try:
            execute(todo, stages, str(out.root), writer_cfg, exec_cfg, sink)
            collector.close()
        finally:
            progress.close()
        t_pack = time.perf_counter()
        packed = pack(out, inputs, writer_cfg)
        now = time.perf_counter()
        summary, failures = summarise(out, inputs, packed, processed=len(todo), clips_this_run=collector.samples,
                                      wall=now - t_start, pack_seconds=now - t_pack)
        write_reports(out, summary, failures)
    finally:
        out.unlock()
    if not exec_cfg.quiet:
        print(format_summary(summary), file=sys.stderr)
    return summary
