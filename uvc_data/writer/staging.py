"""Staging: each finished sample becomes one small tar in `<staging>/<source_id>/`; the collector writes the input's
staging marker done.json (every record, in lineage order) only after all its samples are on disk — the input is then
ready to commit (uvc_data.writer.commit) — and a failure marker in the out dir (`inputs/<source_id>.failed.json`) when
any stage raised. Markers are written atomically and LAST, so a marker always describes data that exists."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from uvc_data.sample import VideoInput
from uvc_data.shards import write_tar
from uvc_data.writer import atomic
from uvc_data.writer.config import WriterConfig
from uvc_data.writer.executors.guard import unfinished_failure
from uvc_data.writer.layout import INPUTS, SHARDS, OutDir, StagingDir, shard_owner
from uvc_data.writer.records import OK, sample_record, tar_bytes
from uvc_data.writer.stages import DROPPED, END, FAILED, SAMPLE, STAGED, Envelope, failure_record
from uvc_data.writer.transport import Transport, open_payload

WRITE_STAGE = "write"
MARKER_SCHEMA = "uvc-staged/1"


def part_name(lineage: tuple[int, ...]) -> str:
    return "-".join(f"{i:06d}" for i in lineage) + ".tar"


class StagingWriter:
    """The terminal operator: serialise kept samples (sample_to_wds) into part tars; rejected ones: record only."""

    def __init__(self, staging_root: str, writer: WriterConfig):
        self.staging = StagingDir(staging_root)
        self.writer = writer
        self.transport = Transport.for_writer(writer)  # the shard's encoders; members the stages encoded are reused

    def process(self, env: Envelope) -> Envelope:
        if env.kind != SAMPLE:
            return env
        t0 = time.perf_counter()
        try:
            sample = open_payload(env.payload, self.transport)  # a packed sample: nothing decoded yet
            record = sample_record(sample)
            if record["status"] == OK:
                item = self.transport.shard_item(sample)  # = sample_to_wds, reusing the members stages encoded
                sizes = [len(v) for k, v in item.items() if k != "__key__"]
                record["bytes"], record["tar_bytes"] = sum(sizes), tar_bytes(sizes)
                record["part"] = part_name(env.lineage)
                folder = self.staging.input_dir(env.source_id)
                folder.mkdir(parents=True, exist_ok=True)
                write_tar(folder / record["part"], [item])
        except Exception as exc:
            out = env.derive(FAILED, failure_record(WRITE_STAGE, exc))
        else:
            out = env.derive(STAGED, record)
        out.seconds, out.stats = dict(env.seconds), dict(env.stats)
        return out.add_cost(WRITE_STAGE, time.perf_counter() - t0, {})


@dataclass
class _Pending:
    vi: VideoInput
    expected: int | None = None
    weight: Fraction = Fraction(0)
    records: list[tuple[tuple[int, ...], dict[str, Any]]] = field(default_factory=list)
    failures: list[tuple[tuple[int, ...], dict[str, Any]]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    stats: dict[str, dict[str, int]] = field(default_factory=dict)
    seen: set[tuple[str, tuple[int, ...]]] = field(default_factory=set)


def _identity(env: Envelope) -> tuple[str, tuple[int, ...]]:
    """What an envelope settles: END/first-stage FAILED settle the input's count, the others one lineage."""
    if env.kind == END or (env.kind == FAILED and ("emitted" in env.payload or env.payload.get("final"))):
        return ("count", ())
    return ("lineage", env.lineage)


class Collector:
    """Receives terminal envelopes in any order (from any worker) and writes each input's marker exactly once."""

    def __init__(self, out: OutDir, inputs: list[VideoInput]):
        self.out = out
        self.pending = {vi.source_id: _Pending(vi) for vi in inputs}
        self.done = 0
        self.failed = 0
        self.samples = 0

    def feed(self, env: Envelope) -> str | None:
        """Returns "done" / "failed" when this envelope finished its input, else None.

        An input finishes when all its samples came back (their weights sum to the first stage's count); it has
        failed when any stage raised for it, and its failure marker then records the first failure in lineage order.
        A retried task may send an envelope again (same lineage): repeats are ignored, as is anything arriving for an
        input already settled. A "final" failure (its worker crashed or timed out) settles the input at once.
        "done" means staged: the caller has the input committed (commit_input) by a worker.
        """
        state = self.pending.get(env.source_id)
        if state is None or _identity(env) in state.seen:
            return None
        state.seen.add(_identity(env))
        for stage, s in env.seconds.items():
            state.seconds[stage] = state.seconds.get(stage, 0.0) + s
        for name, counts in env.stats.items():
            merged = state.stats.setdefault(name, {})
            for k, v in counts.items():
                merged[k] = merged.get(k, 0) + v
        if env.kind == FAILED and env.payload.get("final"):
            self._finish_failed(state, {k: v for k, v in env.payload.items() if k != "final"})
            return "failed"
        if env.kind == FAILED:
            state.failures.append((env.lineage, env.payload))
            if "emitted" in env.payload:
                state.expected = int(env.payload["emitted"])
            else:
                state.weight += env.weight
        elif env.kind == END:
            state.expected = int(env.payload)
        elif env.kind == STAGED:
            state.records.append((env.lineage, env.payload))
            state.weight += env.weight
        elif env.kind == DROPPED:
            state.weight += env.weight
        else:
            raise ValueError(f"the collector got a {env.kind!r} envelope; only terminal ones reach it")
        if state.expected is None or state.weight != state.expected:
            return None
        if state.failures:  # the first failure in lineage order: the same one on every executor
            self._finish_failed(state, min(state.failures, key=lambda lf: lf[0])[1])
            return "failed"
        self._finish_done(state)
        return "done"

    def _base(self, state: _Pending) -> dict[str, Any]:
        vi = state.vi
        return {"schema": MARKER_SCHEMA, "source": vi.path, "source_id": vi.source_id, "index": vi.index,
                "seconds": state.seconds, "stats": state.stats}

    def _finish_done(self, state: _Pending) -> None:
        records = [r for _, r in sorted(state.records, key=lambda lr: lr[0])]
        marker = self._base(state) | {"records": records}
        self.out.staging.input_dir(state.vi.source_id).mkdir(parents=True, exist_ok=True)
        atomic.write_json(self.out.staging.done_marker(state.vi.source_id), marker)
        del self.pending[state.vi.source_id]
        self.done += 1
        self.samples += len(records)

    def _finish_failed(self, state: _Pending, failure: dict[str, Any]) -> None:
        failure = {k: v for k, v in failure.items() if k != "emitted"}
        data = (atomic.dumps(self._base(state) | failure) + "\n").encode("utf-8")
        self.out.store.write_bytes(self.out.failed(state.vi.source_id), data)
        self.out.staging.reset(state.vi.source_id)  # what it staged is never committed
        del self.pending[state.vi.source_id]
        self.failed += 1

    def close(self) -> None:
        """Inputs the executor never finished are recorded as failed: with the first failure that came back, else
        what their attempt markers prove (a worker crash or timeout), else as incomplete."""
        for state in list(self.pending.values()):
            if not state.failures:
                proven = unfinished_failure(self.out.staging, state.vi.source_id)
                if proven is not None:
                    self._finish_failed(state, proven)
                    continue
            incomplete = {"stage": "executor", "error": "Incomplete", "traceback": "",
                          "message": "not every sample of this input came back (a block lost by the executor, or an "
                                     "executor that ended early): rerun with --retry-failed"}
            self._finish_failed(state, min(state.failures, key=lambda lf: lf[0])[1] if state.failures else incomplete)


def load_marker(staging: StagingDir, source_id: str) -> dict[str, Any] | None:
    """The input's staging marker (every record, in lineage order), or None while it is not fully staged."""
    path = staging.done_marker(source_id)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def marker_intact(staging: StagingDir, marker: dict[str, Any]) -> bool:
    """Every staged part the marker lists still exists (a deleted part means the input must be staged again)."""
    folder = staging.input_dir(marker["source_id"])
    return all((folder / r["part"]).is_file() for r in marker["records"] if r["part"])


@dataclass
class Plan:
    todo: list[VideoInput]  # to stage (from scratch)
    ready: list[VideoInput]  # staged by an earlier run, not committed yet: commit only
    done: int  # committed earlier
    skipped: int  # failed earlier (not retried)


def plan(out: OutDir, inputs: list[VideoInput], retry_failed: bool) -> Plan:
    """What each input still needs, from one listing of the out dir's inputs/ and shards/. Clears what unfinished
    commits left in the out dir (fragments, shards without a marker), failure markers of inputs to retry, and all
    staging but that of inputs ready to commit."""
    names = set(out.store.list(INPUTS))
    shards: dict[str, list[str]] = {}
    for name in out.store.list(SHARDS):
        shards.setdefault(shard_owner(name), []).append(name)
    result = Plan([], [], 0, 0)
    for vi in inputs:
        sid = vi.source_id
        if f"{sid}.done.json" in names:
            out.staging.reset(sid)  # a run killed between the marker and its staging's removal left it
            result.done += 1
            continue
        if f"{sid}.failed.json" in names and not retry_failed:
            out.staging.reset(sid)  # likewise after a failure marker
            result.skipped += 1
            continue
        out.clear_input(sid, names, shards.get(sid, []))
        marker = load_marker(out.staging, sid)
        if marker is not None and marker_intact(out.staging, marker):
            result.ready.append(vi)
            continue
        out.staging.reset(sid)
        result.todo.append(vi)
    return result
