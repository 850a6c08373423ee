"""run_build: stage every input not yet staged, have each staged input committed by a worker (its shard group,
manifest fragment and marker), then finish: manifest.parquet + reports from the fragments. Safe to kill and rerun.

Order of durable writes (each atomic): per sample a part tar (staging) → per input its staging marker → its shards →
its fragment → its commit marker (or its failure marker) → manifest.parquet → failures.jsonl → stats.json. A rerun
skips committed inputs, commits staged ones, restages the rest from scratch and finishes again; the shards and
manifest are byte-identical to an uninterrupted run's.
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
from uvc_data.writer.executors import OutSpec, execute
from uvc_data.writer.finish import finish
from uvc_data.writer.layout import OutDir, check_fingerprint
from uvc_data.writer.progress import Progress
from uvc_data.writer.report import BuildSummary, format_summary, write_reports
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
              writer_cfg: WriterConfig, config_fingerprint: str, stage_fingerprints: dict[str, str] | None = None,
              annotator_fingerprints: dict[str, str] | None = None) -> BuildSummary:
    """Build (or resume building) `out_dir` from `inputs` through `stages`. Failed inputs never stop the run.
    `stage_fingerprints` / `annotator_fingerprints` (optional) are recorded in build.json and every commit marker
    (see layout.check_fingerprint)."""
    validate(exec_cfg)
    validate(writer_cfg)
    _check(inputs, stages)
    t_start = time.perf_counter()
    out = OutDir(out_dir, writer_cfg.staging_dir, exec_cfg.lock)
    out.prepare()
    out.lock()
    try:
        check_fingerprint(out, config_fingerprint, writer_cfg, exec_cfg.on_config_change, stage_fingerprints,
                          annotator_fingerprints)
        for folder in {out.staging.root, out.store.scratch}:
            atomic.sweep_tmp(folder)
        if not out.store.remote:
            atomic.sweep_tmp(out.store.base)
        work = plan(out, inputs, exec_cfg.retry_failed)
        parts = [f"{work.done} inputs already committed" if work.done else "",
                 f"{len(work.ready)} staged to commit" if work.ready else "",
                 f"{work.skipped} failed earlier (skipped; set executor.retry_failed=true to retry)"
                 if work.skipped else ""]
        note = "resuming: " + ", ".join(p for p in parts if p) if any(parts) else ""
        progress = Progress(len(work.todo), exec_cfg.quiet, note)
        collector = Collector(out, work.todo)

        def sink(env):
            status = collector.feed(env)
            progress.update(status, collector)
            return status

        try:
            execute(work.todo, work.ready, stages, OutSpec(out.root, str(out.staging.root)), writer_cfg, exec_cfg,
                    sink)
            collector.close()
        finally:
            progress.close()
        t_finish = time.perf_counter()
        read_before = out.store.bytes_read
        tally = finish(out, inputs, writer_cfg)
        now = time.perf_counter()
        summary = tally.summary(out.root, len(inputs), processed=len(work.todo), clips_this_run=collector.samples,
                                wall=now - t_start, finish_seconds=now - t_finish,
                                finish_bytes_read=out.store.bytes_read - read_before)
        write_reports(out, summary, tally.failures)
    finally:
        out.unlock()
    if not exec_cfg.quiet:
        print(format_summary(summary), file=sys.stderr)
    return summary
