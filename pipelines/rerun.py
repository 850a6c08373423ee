"""`uvc data rerun OUT --stage caption|annotate|depth|pose|flow|filters`: redo stages of a built dataset from its
shards.

Nothing is decoded from the sources: a stage sees each kept sample as the shards store it — the clip decoded from
its H.264 member (what a trainer reads, as `writer.transport.clip=shard` gives later stages in a build), conditions
decoded from their members. It first takes back its own earlier verdicts (pipelines.rerun_verdicts), then runs with
the given config:

- caption (captioner + LLM judge) and filters (the task-aware filters): only a side table is written,
  `OUT/side/<stage>.parquet` (uvc_data.side_tables); shards and manifest are untouched.
- annotate, depth, pose, flow: the annotators of that stage whose options changed (per-annotator fingerprints; all of
  them for an input whose marker has none) make their conditions again; when only the plan's grouping changed
  (a model annotator got or lost a stage of its own), nothing is made and only the marker is updated. Each input's
  shard group is rewritten with the new condition members — every other member is copied as its bytes, never
  re-encoded — then its manifest fragment, then its commit marker with the new fingerprints (each atomic, the marker
  last). The manifest and stats.json are then finished again from the fragments.
- Every rerun ends with the filters stage (the task-aware filters read the signals of every earlier stage and their
  table holds each sample's final verdict); side tables of earlier stages apply before a stage runs.

Resume: an interrupted rerun, run again, skips what it finished — an annotator stage the inputs whose marker already
has the new fingerprint, a side-table stage the inputs whose part (`side/_parts/<stage>/`) matches — and a rerun with
nothing to redo (every input's state and config those the tables and markers record) writes nothing. `force` redoes
the named stages anyway (what no fingerprint sees: an edited sidecar file, a new model behind the same endpoint);
`uvc data recaption` always forces the caption stage. It takes the out dir's lock, as a build does. The split and
the writer cannot be redone from the shards: a config whose writer settings differ from the build's is refused, a
different split config is reported (`still_differ`) and otherwise ignored.
build.json then records the new fingerprints of the stages redone, so `uvc data build` with this config carries on.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.rerun_io import input_items, open_item, shard_item, updated_row
from uvc_data.shard_index import iter_shard
from pipelines.rerun_verdicts import annotator_owns, caption_owns, filters_own, take_back
from pipelines.stage_fingerprints import annotator_fingerprints, stage_fingerprints
from pipelines.stage_plan import annotator_groups, caption_steps, task_filter_steps
from uvc_data.annotators import build_annotator
from uvc_data.configurable import validate
from uvc_data.errors import ConfigError
from uvc_data.sample import Sample, VideoInput
from uvc_data.shards import write_tar
from uvc_data.side_tables import (LEGACY_CAPTIONS, SIDE_DIR, SideTables, find_side_tables, read_rows, read_table,
                                  state_digest, table_bytes)
from uvc_data.steps.base import run_chain
from uvc_data.writer import atomic
from uvc_data.writer.finish import finish
from uvc_data.writer.layout import BUILD_JSON, INPUTS, OLD_BUILD_SCHEMAS, SHARDS, STATS, OutDir, read_build_record
from uvc_data.writer.manifest import fragment_bytes, read_fragment
from uvc_data.writer.records import OK
from uvc_data.writer.stage_change import RERUNNABLE, STAGE_ORDER, changed_stages

log = logging.getLogger("pipelines.rerun")
SIDE_STAGES = ("caption", "filters")
PARTS = f"{SIDE_DIR}/_parts"


@dataclass
class RerunSummary:
    out: str
    stages: list[str]  # what ran, in order (the filters stage always last)
    inputs: int  # committed inputs of the out dir
    redone: dict[str, int] = field(default_factory=dict)  # stage → inputs redone by this run
    skipped: dict[str, int] = field(default_factory=dict)  # stage → inputs already current (an earlier try)
    samples: dict[str, int] = field(default_factory=dict)  # stage → samples it judged
    rejected: dict[str, int] = field(default_factory=dict)  # stage → samples rejected as a whole after it
    tables: list[str] = field(default_factory=list)  # side tables written
    shards: int = 0  # shard files rewritten
    still_differ: list[str] = field(default_factory=list)  # stages whose recorded config still differs from this one


def plan(cfg, stages: list[str]) -> list[str]:
    """The stages to run, in plan order, the filters stage last (ConfigError naming --stage when one is unknown or
    not part of this config's plan)."""
    if not stages:
        raise ConfigError("--stage", f"name the stage(s) to re-run: {', '.join(RERUNNABLE)}")
    groups = dict(annotator_groups(cfg))
    for s in stages:
        if s not in RERUNNABLE:
            why = " (it decodes the sources: rebuild)" if s == "split" else ""
            raise ConfigError("--stage", f"{s!r} cannot be re-run from the shards{why}; "
                                         f"re-runnable: {list(RERUNNABLE)}")
        if s in ("annotate", "depth", "pose", "flow") and s not in groups:
            raise ConfigError("--stage", f"this config's plan has no stage {s!r} (its annotator stages: "
                                         f"{list(groups)}; depth, pose and flow get a stage of their own only with "
                                         "their model backend: pipelines.stage_plan)")
    return [s for s in STAGE_ORDER if s in stages or s == "filters"]


class _Run:
    def __init__(self, out: OutDir, cfg, record: dict[str, Any]):
        self.out, self.cfg, self.record = out, cfg, record
        self.fps = stage_fingerprints(cfg)
        self.ann_fps = annotator_fingerprints(cfg)
        built = json.loads(out.store.read_bytes("config.json")) if out.store.exists("config.json") else {}
        self.order = list(built.get("tasks") or cfg.tasks)
        self.filter_names = sorted({*built.get("task_filters", []), *cfg.task_filters})

    def tables(self, before: str) -> tuple[SideTables, str]:
        """The side tables of the stages before `before`, and a digest of their bytes."""
        def stage_of(path: str) -> str:
            return "caption" if path.endswith("/" + LEGACY_CAPTIONS) else Path(path).stem

        limit = STAGE_ORDER.index(before)
        paths = [p for p in find_side_tables(self.out.root) if STAGE_ORDER.index(stage_of(p)) < limit]
        tables = SideTables.load(paths) if paths else SideTables([])
        return tables, hashlib.sha1("".join(t.digest for t in tables.tables).encode()).hexdigest()[:16]


def _prepared(sample: Sample, tables: SideTables, before: str) -> tuple[Sample, str]:
    """The sample with the side tables of earlier stages applied (its own prompt kept), and the digest of that
    state (what a row of this stage's table records as its base)."""
    _, sample.tasks, sample.rejected, sample.signals = tables.apply(
        sample.key, sample.prompt, sample.tasks, sample.rejected, sample.signals, before)
    return sample, state_digest(sample.tasks, sample.rejected)


def _done_before(store, rel: str) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(source_id, digest) → rows, of the stage's table as it stands (what an earlier run judged)."""
    if not store.exists(rel):
        return {}
    try:
        _, rows, inputs = read_table(store.read_bytes(rel))
    except Exception:  # unreadable: judged again
        return {}
    out, at = {}, 0
    for sid, digest, n in inputs:
        out[(sid, digest)] = rows[at: at + n]
        at += n
    return out


def _side_stage(run: _Run, stage: str, markers: list[dict[str, Any]], summary: RerunSummary, force: bool) -> None:
    """caption or filters: a side table, from per-input parts (an interrupted run resumes at the next input); an
    input whose state and config are those the table already holds keeps its rows (a repeated rerun is a no-op)."""
    store = run.out.store
    tables, tables_digest = run.tables(stage)
    owns = caption_owns if stage == "caption" else filters_own(run.filter_names)
    steps = caption_steps(run.cfg) if stage == "caption" else task_filter_steps(run.cfg)
    rel = f"{SIDE_DIR}/{stage}.parquet"
    current = {} if force else _done_before(store, rel)
    parts_dir = f"{PARTS}/{stage}"
    store.prepare(parts_dir)
    existing = set(store.list(parts_dir))
    inputs: list[list[Any]] = []
    all_rows: list[dict[str, Any]] = []
    redone = 0
    for m in markers:
        digest = hashlib.sha1(json.dumps([run.fps[stage], tables_digest, m.get("stage_fingerprints"),
                                          m.get("annotator_fingerprints"), m["shards"]], sort_keys=True).encode())
        digest = digest.hexdigest()[:16]
        name = f"{m['source_id']}-{digest}.parquet"
        if (m["source_id"], digest) in current:
            rows = current[(m["source_id"], digest)]
        elif name in existing:
            rows = read_rows(store.read_bytes(f"{parts_dir}/{name}"))[1]
        else:
            rows = _judge(run, stage, m, tables, owns, steps)
            store.write_bytes(f"{parts_dir}/{name}", table_bytes(rows))
            redone += 1
        inputs.append([m["source_id"], digest, len(rows)])
        all_rows += rows
    data = table_bytes(all_rows, inputs)
    if not store.exists(rel) or store.read_bytes(rel) != data:
        store.write_bytes(rel, data)
    store.remove_tree(parts_dir)
    summary.tables.append(store.where(rel))
    summary.redone[stage], summary.skipped[stage] = redone, len(markers) - redone
    summary.samples[stage] = len(all_rows)
    summary.rejected[stage] = sum(1 for r in all_rows if "clip" in r["rejected"] or (not r["tasks"] and r["rejected"]))


def _judge(run: _Run, stage: str, m: dict[str, Any], tables: SideTables, owns, steps) -> list[dict[str, Any]]:
    """One input's rows of a side-table stage: its samples (streamed: a long input's clips are never all decoded
    at once) with the earlier tables applied and the stage's own verdicts taken back, through the stage's steps."""
    before: dict[str, tuple[str, dict[str, float]]] = {}

    def opened():
        for _, item in input_items(run.out, m):
            sample, base = _prepared(open_item(item), tables, stage)
            before[sample.key] = (base, dict(sample.signals))
            sample.tasks, sample.rejected = take_back(sample.tasks, sample.rejected, owns, run.order,
                                                      set(sample.conditions))
            yield sample

    rows = []
    for sample in run_chain(steps, opened()):
        base, old_signals = before[sample.key]
        reason = sample.rejected.get("clip")
        rows.append({"key": sample.key, "stage": stage, "stage_fingerprint": run.fps[stage],
                     "prompt": (None if reason else sample.prompt) if stage == "caption" else None,
                     "tasks": list(sample.tasks), "rejected": dict(sample.rejected),
                     "signals": {k: float(v) for k, v in sample.signals.items() if old_signals.get(k) != v},
                     "base": base})
    return rows


def _annotator_stage(run: _Run, stage: str, markers: list[dict[str, Any]], summary: RerunSummary,
                     force: bool) -> None:
    """Rewrite the shard groups of the inputs whose annotators of `stage` changed (their markers updated in
    `markers`)."""
    store, writer = run.out.store, run.cfg.writer
    names = dict(annotator_groups(run.cfg))[stage]
    tables, _ = run.tables(stage)
    built: dict[str, Any] = {}
    redone = judged = rejected = 0
    for i, m in enumerate(markers):
        recorded = m.get("annotator_fingerprints") or {}
        redo = list(names) if force else [n for n in names if recorded.get(n) != run.ann_fps[n]]
        if (m.get("stage_fingerprints") or {}).get(stage) == run.fps[stage] and not redo:
            continue
        if not redo:  # only the plan's grouping changed (a model annotator got or lost a stage): nothing to make
            marker = m | {"stage_fingerprints": {**(m.get("stage_fingerprints") or {}), stage: run.fps[stage]}}
            store.write_bytes(run.out.committed(m["source_id"]), (atomic.dumps(marker) + "\n").encode("utf-8"))
            markers[i] = marker
            continue
        steps = [built.setdefault(n, build_annotator(n, run.cfg.annotator_options.get(n))) for n in redo]
        conds = {s.condition for s in steps}
        fragment = read_fragment(store.read_bytes(run.out.fragment(m["source_id"])))
        rows, order = {r["key"]: r for r in fragment}, [r["key"] for r in fragment]

        def rewritten(shard: str):  # one sample at a time, straight into the new tar
            nonlocal judged, rejected
            for item in iter_shard(store.where(f"{SHARDS}/{shard}")):
                sample, _ = _prepared(open_item(item), tables, stage)
                sample.tasks, sample.rejected = take_back(sample.tasks, sample.rejected, annotator_owns(conds),
                                                          run.order, {*sample.conditions, *conds})
                for c in conds & set(sample.conditions):
                    del sample.conditions[c]
                for step in steps:
                    sample = step.process(sample)
                new = shard_item(sample, item, writer)
                rows[sample.key] = updated_row(rows[sample.key], sample, new)
                judged += 1
                rejected += rows[sample.key]["status"] != OK
                yield new

        for shard in m["shards"]:
            rel = f"{SHARDS}/{shard}"
            write_tar(store.local_target(rel), rewritten(shard))
            store.publish(rel)
            summary.shards += 1
        ordered = [rows[k] for k in order]  # the fragment's own (lineage) order
        store.write_bytes(run.out.fragment(m["source_id"]), fragment_bytes(ordered))
        kept = [r for r in ordered if r["status"] == OK]
        marker = m | {"samples": len(kept), "rejected": len(ordered) - len(kept),
                      "bytes": sum(r["bytes"] for r in kept),
                      "stage_fingerprints": {**(m.get("stage_fingerprints") or {}), stage: run.fps[stage]},
                      "annotator_fingerprints": {**recorded, **{n: run.ann_fps[n] for n in redo}}}
        store.write_bytes(run.out.committed(m["source_id"]), (atomic.dumps(marker) + "\n").encode("utf-8"))
        markers[i] = marker
        redone += 1
    summary.redone[stage], summary.skipped[stage] = redone, len(markers) - redone
    summary.samples[stage], summary.rejected[stage] = judged, rejected


def _markers(out: OutDir) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(commit markers, failure markers) of the out dir, in input order."""
    names = out.store.list(INPUTS)
    done = [json.loads(out.store.read_bytes(f"{INPUTS}/{n}")) for n in names if n.endswith(".done.json")]
    failed = [json.loads(out.store.read_bytes(f"{INPUTS}/{n}")) for n in names if n.endswith(".failed.json")]
    return sorted(done, key=lambda m: m["index"]), sorted(failed, key=lambda m: m.get("index", 0))


def _refinish(out: OutDir, done: list[dict[str, Any]], failed: list[dict[str, Any]], writer) -> None:
    """manifest.parquet and stats.json again from the fragments (the build's timings kept)."""
    inputs = [VideoInput(m["source"], m["source_id"], m["index"]) for m in [*done, *failed]]
    tally = finish(out, inputs, writer)
    old = json.loads(out.store.read_bytes(STATS)) if out.store.exists(STATS) else {}
    summary = tally.summary(out.root, len(inputs), processed=old.get("processed_this_run", 0),
                            clips_this_run=old.get("clips_this_run", 0), wall=old.get("wall_seconds", 0.0),
                            finish_seconds=old.get("pack_seconds", 0.0),
                            finish_bytes_read=old.get("finish_bytes_read", 0))
    out.store.write_bytes(STATS, (atomic.dumps(summary.to_dict()) + "\n").encode("utf-8"))


def _check_writer(run: _Run) -> None:
    """New condition members are encoded with this config's writer settings, next to the build's: refuse others.
    (The split is never redone: a different split config is only reported, in `still_differ`.)"""
    recorded = (run.record.get("stage_fingerprints") or {}).get("writer")
    if recorded is not None and recorded != run.fps["writer"]:
        raise ConfigError("writer", f"this config's writer settings (writer.crf, preset, encode_threads, lean, "
                                    f"transport) differ from those {run.out.root} was built with; a rerun encodes "
                                    "new members next to the build's: give the build's writer.* settings")


def rerun(out_dir: str | Path, cfg, stages: list[str], force: bool = False) -> RerunSummary:
    """Redo `stages` (and then the filters stage) of the built dataset in `out_dir` (a folder or a URL).
    `force`: redo the named stages for every input, also those already current for this config (a changed sidecar
    file, a new model behind the same endpoint: what no fingerprint sees). A forced side-table stage still resumes
    an interrupted try; a forced annotator stage redoes every input again."""
    validate(cfg)
    todo = plan(cfg, list(stages))
    out = OutDir(out_dir, cfg.writer.staging_dir, cfg.executor.lock)
    if not out.store.exists(BUILD_JSON):
        raise ConfigError("out", f"{out.root} has no {BUILD_JSON}: give the --out of a `uvc data build`")
    out.lock()
    try:
        record = read_build_record(out.store) or {}
        if record.get("schema") in OLD_BUILD_SCHEMAS:
            raise ConfigError("out", f"{out.root} has the earlier layout {record.get('schema')}: rebuild it "
                                     "(uvc data build --on-config-change restage) to re-run stages")
        run = _Run(out, cfg, record)
        _check_writer(run)
        done, failed = _markers(out)
        if not done:
            raise ConfigError("out", f"{out.root} has no committed input (inputs/*.done.json): finish the build first")
        summary = RerunSummary(out.root, todo, len(done))
        for stage in todo:
            forced = force and stage in stages
            if stage in SIDE_STAGES:
                _side_stage(run, stage, done, summary, forced)
            else:
                _annotator_stage(run, stage, done, summary, forced)
        if any(s not in SIDE_STAGES for s in todo):  # also when an interrupted try rewrote every input already
            _refinish(out, done, failed, cfg.writer)
        out.store.remove_tree(PARTS)
        fps = {**(record.get("stage_fingerprints") or {}), **{s: run.fps[s] for s in todo}}
        anns = dict(record.get("annotator_fingerprints") or {})
        for stage in todo:
            anns.update({n: run.ann_fps[n] for n in dict(annotator_groups(cfg)).get(stage, ())})
        if record.get("stage_fingerprints"):
            record = record | {"stage_fingerprints": fps, "annotator_fingerprints": anns}
            out.store.write_bytes(BUILD_JSON, (atomic.dumps(record) + "\n").encode("utf-8"))
            summary.still_differ = [s for s in changed_stages(fps, run.fps) if s in run.fps]
    finally:
        out.unlock()
    if summary.still_differ:
        log.warning("stages of %s still built with another config: %s (re-run them with --stage)", out.root,
                    ", ".join(summary.still_differ))
    return summary
