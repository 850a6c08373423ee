"""The build's numbers: stats.json, failures.jsonl and the summary printed at the end."""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from uvc_data.sample import VideoInput
from uvc_data.writer import atomic
from uvc_data.writer.layout import OutDir
from uvc_data.writer.packer import PackResult
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
    pack_seconds: float = 0.0

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


def summarise(out: OutDir, inputs: list[VideoInput], packed: PackResult, processed: int, clips_this_run: int,
              wall: float, pack_seconds: float) -> tuple[BuildSummary, list[dict[str, Any]]]:
    """Read every input's marker (this run's and earlier runs') → summary and failure records (input order)."""
    per_task, reasons, failures_by = Counter(), Counter(), Counter()
    task_rejects: dict[str, dict[str, int]] = {}
    seconds: Counter[str] = Counter()
    steps: dict[str, dict[str, int]] = {}
    failures, done, clips = [], 0, 0
    for vi in sorted(inputs, key=lambda v: v.index):
        path = out.done_marker(vi.source_id)
        failed_path = out.failed_marker(vi.source_id)
        if path.exists():
            marker = json.loads(path.read_text(encoding="utf-8"))
            done += 1
            for rec in marker["records"]:
                clips += 1
                if rec["status"] == OK:
                    per_task.update(rec["tasks"])
                elif rec["status"] == REJECTED:
                    reasons[reason_group(rec["reject_reason"])] += 1
                for task, why in rec["rejected"].items():
                    if task != "clip":
                        slot = task_rejects.setdefault(task, {})
                        group = reason_group(why)
                        slot[group] = slot.get(group, 0) + 1
        elif failed_path.exists():
            marker = json.loads(failed_path.read_text(encoding="utf-8"))
            failures_by[marker["error"]] += 1
            failures.append({k: marker[k] for k in ("source", "source_id", "index", "stage", "error", "message",
                                                    "traceback")})
        else:
            continue
        seconds.update(marker["seconds"])
        _merge(steps, marker["stats"])
    summary = BuildSummary(
        out_dir=str(out.root), inputs=len(inputs), done=done, failed=len(failures), processed_this_run=processed,
        clips_this_run=clips_this_run,
        clips=clips, samples=packed.samples, rejected=packed.rejected, shards=packed.shards, bytes=packed.bytes,
        samples_per_task=dict(sorted(per_task.items())), rejects_by_reason=dict(reasons.most_common()),
        task_rejects={t: dict(sorted(v.items())) for t, v in sorted(task_rejects.items())},
        failures_by_error=dict(failures_by.most_common()),
        seconds_per_stage={k: round(v, 4) for k, v in sorted(seconds.items()) if "/" not in k},
        seconds_per_step={k: round(v, 4) for k, v in sorted(seconds.items()) if "/" in k},
        step_stats={k: dict(sorted(v.items())) for k, v in sorted(steps.items())},
        wall_seconds=round(wall, 3), pack_seconds=round(pack_seconds, 3))
    return summary, failures


def write_reports(out: OutDir, summary: BuildSummary, failures: list[dict[str, Any]]) -> None:
    atomic.write_lines(out.failures, [json.dumps(f, sort_keys=True, ensure_ascii=False) for f in failures])
    atomic.write_json(out.stats, summary.to_dict())


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
        f"  time     {s.wall_seconds:.1f}s wall ({s.pack_seconds:.1f}s packing), "
        f"{tp['inputs_per_s']:.2f} inputs/s, {tp['clips_per_s']:.2f} clips/s (this run)",
    ]
    return "\n".join(lines)
