"""The build's numbers: stats.json, failures.jsonl and the summary printed at the end."""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from uvc_data.writer import atomic
from uvc_data.writer.layout import FAILURES, STATS, OutDir
from uvc_data.writer.records import OK, REJECTED

STATS_SCHEMA = "uvc-build-stats/1"

# a number standing alone (not part of a name such as r2v or min_motion): 12, 0.00041, -3, 1e-05, 40%
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?%?(?![\w.])")


def reason_group(reason: str) -> str:
    """A reject reason with its measured values masked, so the summary counts reasons, not distinct numbers:
    "motion: too little motion 0.00041 < min_motion 0.001" → "motion: too little motion … < min_motion …".
    The exact reason stays in the manifest (`reject_reason`, `rejected`)."""
    return _NUMBER.sub("…", reason)


@dataclass
class BuildSummary:
    out_dir: str
    inputs: int
    done: int
    failed: int
    processed_this_run: int  # inputs staged (done or failed) by this run; the rest came from earlier runs
    clips_this_run: int
    clips: int  # records staged: kept + rejected
    samples: int  # kept samples, in the shards
    rejected: int
    shards: int
    bytes: int
    samples_per_task: dict[str, int] = field(default_factory=dict)
    # reasons grouped by reason_group (measured values masked; exact values are in the manifest)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)  # clip-level reasons of rejected samples
    task_rejects: dict[str, dict[str, int]] = field(default_factory=dict)  # task → reason → count (all samples)
    failures_by_error: dict[str, int] = field(default_factory=dict)
    seconds_per_stage: dict[str, float] = field(default_factory=dict)  # summed over workers and runs
    seconds_per_step: dict[str, float] = field(default_factory=dict)  # "stage/step" (depth, pose, flow, ...), same
    step_stats: dict[str, dict[str, int]] = field(default_factory=dict)
    wall_seconds: float = 0.0  # this run
    pack_seconds: float = 0.0  # finishing: manifest.parquet and these numbers from the committed fragments
    finish_bytes_read: int = 0  # bytes the driver read to finish (commit markers + manifest fragments, no shard)

    @property
    def throughput(self) -> dict[str, float]:
        wall = max(self.wall_seconds, 1e-9)
        return {"inputs_per_s": round(self.processed_this_run / wall, 4), "clips_per_s": round(self.clips_this_run / wall, 4)}

    def to_dict(self) -> dict[str, Any]:
        return {"schema": STATS_SCHEMA, **asdict(self), "throughput": self.throughput}


def _merge(into: dict[str, dict[str, int]], add: dict[str, dict[str, int]]) -> None:
    for name, counts in add.items():
        slot = into.setdefault(name, {})
        for k, v in counts.items():
            slot[k] = slot.get(k, 0) + v


class Tally:
    """Counts of the inputs a build finished with, fed input by input (committed: its marker and fragment rows;
    failed: its marker) → BuildSummary and the failure records (input order)."""

    def __init__(self) -> None:
        self.per_task: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.failures_by: Counter[str] = Counter()
        self.task_rejects: dict[str, dict[str, int]] = {}
        self.seconds: Counter[str] = Counter()
        self.steps: dict[str, dict[str, int]] = {}
        self.failures: list[dict[str, Any]] = []
        self.done = self.clips = self.samples = self.rejected = self.shards = self.bytes = 0

    def add_done(self, marker: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        self.done += 1
        self.shards += len(marker["shards"])
        self.bytes += marker["bytes"]
        for rec in rows:
            self.clips += 1
            if rec["status"] == OK:
                self.samples += 1
                self.per_task.update(rec["tasks"])
            elif rec["status"] == REJECTED:
                self.rejected += 1
                self.reasons[reason_group(rec["reject_reason"])] += 1
            for task, why in dict(rec["rejected"]).items():
                if task != "clip":
                    slot = self.task_rejects.setdefault(task, {})
                    group = reason_group(why)
                    slot[group] = slot.get(group, 0) + 1
        self._costs(marker)

    def add_failed(self, marker: dict[str, Any]) -> None:
        self.failures_by[marker["error"]] += 1
        self.failures.append({k: marker[k] for k in ("source", "source_id", "index", "stage", "error", "message",
                                                     "traceback")})
        self._costs(marker)

    def _costs(self, marker: dict[str, Any]) -> None:
        self.seconds.update(marker["seconds"])
        _merge(self.steps, marker["stats"])

    def summary(self, out_dir: str, inputs: int, processed: int, clips_this_run: int, wall: float,
                finish_seconds: float, finish_bytes_read: int) -> BuildSummary:
        return BuildSummary(
            out_dir=out_dir, inputs=inputs, done=self.done, failed=len(self.failures), processed_this_run=processed,
            clips_this_run=clips_this_run, clips=self.clips, samples=self.samples, rejected=self.rejected,
            shards=self.shards, bytes=self.bytes, samples_per_task=dict(sorted(self.per_task.items())),
            rejects_by_reason=dict(self.reasons.most_common()),
            task_rejects={t: dict(sorted(v.items())) for t, v in sorted(self.task_rejects.items())},
            failures_by_error=dict(self.failures_by.most_common()),
            seconds_per_stage={k: round(v, 4) for k, v in sorted(self.seconds.items()) if "/" not in k},
            seconds_per_step={k: round(v, 4) for k, v in sorted(self.seconds.items()) if "/" in k},
            step_stats={k: dict(sorted(v.items())) for k, v in sorted(self.steps.items())},
            wall_seconds=round(wall, 3), pack_seconds=round(finish_seconds, 3), finish_bytes_read=finish_bytes_read)


def write_reports(out: OutDir, summary: BuildSummary, failures: list[dict[str, Any]]) -> None:
    lines = [json.dumps(f, sort_keys=True, ensure_ascii=False) for f in failures]
    out.store.write_bytes(FAILURES, "".join(line + "\n" for line in lines).encode("utf-8"))
    out.store.write_bytes(STATS, (atomic.dumps(summary.to_dict()) + "\n").encode("utf-8"))


def format_summary(s: BuildSummary) -> str:
    def table(d: dict[str, Any]) -> str:
        return ", ".join(f"{k}: {v}" for k, v in d.items()) or "-"

    tp = s.throughput
    lines = [
        f"built {s.out_dir}",
        f"  inputs   {s.inputs} ({s.done} done, {s.failed} failed; {s.processed_this_run} processed by this run)",
        f"  clips    {s.clips} ({s.samples} in {s.shards} shards, {s.bytes / 1e6:.1f} MB; {s.rejected} rejected)",
        f"  per task {table(s.samples_per_task)}",
        f"  rejects  {table(s.rejects_by_reason)}",
        f"  failures {table(s.failures_by_error)}" + ("  (see failures.jsonl)" if s.failed else ""),
        f"  stages   {table({k: f'{v:.1f}s' for k, v in s.seconds_per_stage.items()})}",
        f"  steps    {table({k: f'{v:.1f}s' for k, v in sorted(s.seconds_per_step.items(), key=lambda kv: -kv[1])[:8]})}",
        f"  time     {s.wall_seconds:.1f}s wall ({s.pack_seconds:.1f}s finishing), "
        f"{tp['inputs_per_s']:.2f} inputs/s, {tp['clips_per_s']:.2f} clips/s (this run)",
    ]
    return "\n".join(lines)
