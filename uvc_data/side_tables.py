"""Side tables: what a re-run stage decided, keyed by sample, next to the shards (`OUT/side/<stage>.parquet`).

`uvc data rerun OUT --stage caption|filters` (and `uvc data recaption`) write one table per stage instead of
rewriting the shards. Schema `uvc-side/1` (parquet schema metadata), one row per sample the stage saw:

  key                string   the sample key
  stage              string   caption | filters | ...
  stage_fingerprint  string   fingerprint of the config the stage ran with (pipelines.stage_fingerprints)
  prompt             string   the new caption (caption stage only; null elsewhere and when the caption was rejected)
  tasks              list     the tasks still alive after this stage
  rejected           map      task (or "clip") → reason, after this stage
  signals            map      what this stage measured (caption_words, judge or filter scores, ...)
  base               string   digest of the (tasks, rejected) the stage started from (see "stale" below)

Readers (`iter_samples(shards, side=...)`, the trainer's `data.side_tables`, the suite builder) apply the tables on
top of each sample's own json in stage order (caption, annotate, depth, pose, flow, filters): the prompt is replaced
when the row has one, signals are merged, and tasks/rejected are replaced — but only when the sample's state at that
point is still the one the row was computed from (`base`): a shard rewritten later by an annotator rerun already
holds the verdicts of the tables before it, so a stale row gives its prompt and signals, never old verdicts. A clip
the result rejects (`rejected["clip"]`, or every task rejected) is skipped, as a clip rejected during the build is not
in the shards at all.

The captions table of earlier toolkits (`OUT/captions.parquet`, schema `uvc-captions/1`: key, prompt, ...) is still
read, as a caption table that carries prompts only (a row without a prompt keeps the shard's caption); an out dir's
`side/caption.parquet` wins over it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from uvc_data.errors import BadInputError

SIDE_SCHEMA = "uvc-side/1"
LEGACY_SCHEMA = "uvc-captions/1"
SIDE_DIR = "side"
LEGACY_CAPTIONS = "captions.parquet"
# side-table stages in the order readers apply them (the plan's order: pipelines.stage_plan)
SIDE_ORDER = ("caption", "annotate", "depth", "pose", "flow", "filters")


def state_digest(tasks: Iterable[str], rejected: dict[str, str]) -> str:
    """What a row's `base` records: the (tasks, rejected) a stage started from."""
    data = json.dumps([list(tasks), sorted(dict(rejected).items())], ensure_ascii=False)
    return hashlib.sha1(data.encode("utf-8")).hexdigest()[:16]


def is_rejected(tasks: list[str], rejected: dict[str, str]) -> bool:
    """A clip-level rejection, or every task rejected (the build's rule: uvc_data.writer.records.status_of)."""
    return "clip" in rejected or (not tasks and bool(rejected))


def schema() -> Any:
    import pyarrow as pa

    return pa.schema([
        ("key", pa.string()), ("stage", pa.string()), ("stage_fingerprint", pa.string()), ("prompt", pa.string()),
        ("tasks", pa.list_(pa.string())), ("rejected", pa.map_(pa.string(), pa.string())),
        ("signals", pa.map_(pa.string(), pa.float64())), ("base", pa.string()),
    ], metadata={"schema": SIDE_SCHEMA})


def table_bytes(rows: list[dict[str, Any]], inputs: list[list[Any]] | None = None) -> bytes:
    """Rows (dicts with the schema's columns; maps as dicts) → Parquet bytes, maps sorted (deterministic).
    `inputs` ([source_id, digest, rows] per input, in row order) goes into the schema metadata: what a rerun
    compares to reuse an input's rows instead of judging it again."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from uvc_data.writer.manifest import rows_table

    sch = schema()
    if inputs is not None:
        sch = sch.with_metadata({"schema": SIDE_SCHEMA, "inputs": json.dumps(inputs)})
    sink = pa.BufferOutputStream()
    pq.write_table(rows_table(rows, sch), sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def read_rows(data: bytes) -> tuple[str, list[dict[str, Any]]]:
    """Parquet bytes of a side table (or a legacy captions table) → (schema, rows with maps as dicts)."""
    found, rows, _ = read_table(data)
    return found, rows


def read_table(data: bytes) -> tuple[str, list[dict[str, Any]], list[list[Any]]]:
    """(schema, rows with maps as dicts, the `inputs` metadata table_bytes recorded, [] when none)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(pa.BufferReader(data))
    found = (table.schema.metadata or {}).get(b"schema", b"").decode()
    if found not in (SIDE_SCHEMA, LEGACY_SCHEMA):
        raise BadInputError(f"not a side table: schema {found!r}; this toolkit reads {SIDE_SCHEMA} and {LEGACY_SCHEMA}")
    rows = table.to_pylist()
    for row in rows:
        for name in ("rejected", "signals"):
            if name in row:
                row[name] = dict(row[name] or [])
    inputs = json.loads((table.schema.metadata or {}).get(b"inputs", b"[]"))
    return found, rows, inputs


@dataclass
class SideRow:
    prompt: str | None
    tasks: list[str] | None  # None: the table carries no verdicts (a legacy captions table)
    rejected: dict[str, str] | None
    signals: dict[str, float] = field(default_factory=dict)
    base: str | None = None


@dataclass
class SideTable:
    stage: str
    rows: dict[str, SideRow]
    source: str = ""
    digest: str = ""  # of the file's bytes


def _load(data: bytes, where: str) -> SideTable:
    digest = hashlib.sha1(data).hexdigest()[:16]
    try:
        found, rows = read_rows(data)
    except BadInputError as exc:
        raise BadInputError(f"{where}: {exc}") from None
    if found == LEGACY_SCHEMA:
        return SideTable("caption", {r["key"]: SideRow(r["prompt"], None, None) for r in rows}, where, digest)
    stages = {r["stage"] for r in rows}
    if len(stages) > 1:
        raise BadInputError(f"{where}: rows of several stages {sorted(stages)}; a side table holds one stage")
    stage = stages.pop() if stages else Path(where).stem
    return SideTable(stage, {r["key"]: SideRow(r["prompt"], list(r["tasks"]), dict(r["rejected"]),
                                               dict(r["signals"]), r["base"]) for r in rows}, where, digest)


def _read(path: str) -> bytes:
    from uvc_data.remote import is_url, open_binary

    if not is_url(path) and not Path(path).is_file():
        raise BadInputError(f"side table {path} does not exist")
    with open_binary(path) as fh:
        return fh.read()


def find_side_tables(out: str | Path, legacy: bool = True) -> list[str]:
    """The side tables of an out dir (or of its side/ folder), in stage order: OUT/side/<stage>.parquet, and (with
    `legacy`) OUT/captions.parquet when there is no side/caption.parquet. Local folders and URLs (s3://)."""
    from uvc_data.remote import filesystem, is_url

    root = str(out).rstrip("/")
    if root.endswith("/" + SIDE_DIR) or root == SIDE_DIR:
        root = root[: -len(SIDE_DIR)].rstrip("/") or "."
    side = f"{root}/{SIDE_DIR}"
    if is_url(root):
        fs, inner = filesystem(root, field="side_tables")
        fs.invalidate_cache()
        names = [p.rsplit("/", 1)[-1] for p in (fs.ls(f"{inner}/{SIDE_DIR}", detail=False)
                                                if fs.isdir(f"{inner}/{SIDE_DIR}") else [])]
        has_legacy = fs.isfile(f"{inner}/{LEGACY_CAPTIONS}")
    else:
        names = [p.name for p in Path(side).glob("*.parquet")]
        has_legacy = Path(root, LEGACY_CAPTIONS).is_file()
    found = [f"{side}/{s}.parquet" for s in SIDE_ORDER if f"{s}.parquet" in names]
    if legacy and has_legacy and "caption.parquet" not in names:
        found.insert(0, f"{root}/{LEGACY_CAPTIONS}")
    return found


class SideTables:
    """Side tables applied in stage order on top of a sample's own json (see the module docstring)."""

    def __init__(self, tables: list[SideTable]):
        order = {s: i for i, s in enumerate(SIDE_ORDER)}
        for t in tables:
            if t.stage not in order:
                raise BadInputError(f"{t.source}: unknown side-table stage {t.stage!r} (known: {list(SIDE_ORDER)})")
        self.tables = sorted(tables, key=lambda t: order[t.stage])

    @classmethod
    def load(cls, items: str | Path | Iterable[str | Path]) -> "SideTables":
        """From out dirs (their side tables: find_side_tables), side/ folders or .parquet files (local or URLs)."""
        from uvc_data.remote import is_url

        paths: list[str] = []
        for item in [items] if isinstance(items, (str, Path)) else list(items):
            p = str(item)
            if p.endswith(".parquet"):
                paths.append(p)
            elif is_url(p) or Path(p).is_dir():
                paths.extend(find_side_tables(p))
            else:
                raise BadInputError(f"side tables: {p} is neither an out dir, its side/ folder nor a .parquet file")
        tables = [_load(_read(p), p) for p in paths]
        seen: dict[str, str] = {}
        for t in tables:
            if t.stage in seen:
                raise BadInputError(f"two side tables for stage {t.stage!r}: {seen[t.stage]} and {t.source}")
            seen[t.stage] = t.source
        return cls(tables)

    @classmethod
    def beside(cls, shards: Iterable[str | Path]) -> "SideTables":
        """The side tables of the out dirs these shard folders are in (`OUT/shards` → `OUT/side/*.parquet`): what
        the trainer and the suite builder apply by default, so a dataset is read as its last rerun left it. Globs
        and shard files name no out dir; the legacy captions.parquet is only read when named."""
        found: list[str] = []
        for item in shards:
            root = str(item).rstrip("/")
            if root.rsplit("/", 1)[-1] == "shards" and not any(c in root for c in "*?["):
                found += find_side_tables(root.rsplit("/", 1)[0] if "/" in root else ".", legacy=False)
        return cls.load(found) if found else cls([])

    def __bool__(self) -> bool:
        return bool(self.tables)

    def apply(self, key: str, prompt: str, tasks: list[str], rejected: dict[str, str], signals: dict[str, float],
              before: str | None = None) -> tuple[str, list[str], dict[str, str], dict[str, float]]:
        """(prompt, tasks, rejected, signals) after the tables (all of them, or those of stages before `before`)."""
        tasks, rejected, signals = list(tasks), dict(rejected), dict(signals)
        for t in self.tables:
            if before is not None and SIDE_ORDER.index(t.stage) >= SIDE_ORDER.index(before):
                break
            row = t.rows.get(key)
            if row is None:
                continue
            if row.prompt is not None:
                prompt = row.prompt
            signals.update(row.signals)
            if row.tasks is not None and row.base == state_digest(tasks, rejected):
                tasks, rejected = list(row.tasks), dict(row.rejected or {})
        return prompt, tasks, rejected, signals

    def apply_sample(self, sample: Any, before: str | None = None) -> Any:
        """The Sample with the tables applied in place; None when they reject the clip (readers skip it)."""
        sample.prompt, sample.tasks, sample.rejected, sample.signals = self.apply(
            sample.key, sample.prompt, sample.tasks, sample.rejected, sample.signals, before)
        return None if is_rejected(sample.tasks, sample.rejected) else sample

    def apply_meta(self, meta: dict[str, Any]) -> dict[str, Any] | None:
        """A shard sample's json metadata with the tables applied (a copy); None when they reject the clip."""
        prompt, tasks, rejected, signals = self.apply(meta["key"], meta.get("prompt", ""), meta.get("tasks", []),
                                                      meta.get("rejected", {}), meta.get("signals", {}))
        if is_rejected(tasks, rejected):
            return None
        return {**meta, "prompt": prompt, "tasks": tasks, "rejected": rejected, "signals": signals}

    def rejected_keys(self) -> set[str]:
        """Keys the last table with verdicts rejects: what the trainer leaves out when it indexes the shards
        (a rerun always ends with the filters stage, whose table holds every sample's final verdict)."""
        for t in reversed(self.tables):
            if any(r.tasks is not None for r in t.rows.values()):
                return {k for k, r in t.rows.items() if r.tasks is not None and is_rejected(r.tasks, r.rejected or {})}
        return set()
