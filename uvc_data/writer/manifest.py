"""The Parquet manifest: one row per sample (kept and rejected), readable by pyarrow, pandas and duckdb."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from uvc_data.writer import atomic

MANIFEST_VERSION = "uvc-manifest/1"


def schema() -> Any:
    import pyarrow as pa

    return pa.schema([
        ("key", pa.string()),
        ("status", pa.string()),  # "ok" (in a shard) or "rejected" (metadata only)
        ("reject_reason", pa.string()),  # clip-level reason of a rejected sample, else null
        ("shard", pa.string()),  # shard file name relative to <out>/shards, null for rejected samples
        ("shard_index", pa.int32()),
        ("position", pa.int32()),  # sample's position inside its shard
        ("prompt", pa.string()),
        ("tasks", pa.list_(pa.string())),
        ("rejected", pa.map_(pa.string(), pa.string())),  # task (or "clip") → reason
        ("signals", pa.map_(pa.string(), pa.float64())),
        ("conditions", pa.list_(pa.string())),
        ("split", pa.string()),
        ("fps", pa.float64()),
        ("num_frames", pa.int32()),
        ("height", pa.int32()),
        ("width", pa.int32()),
        ("bytes", pa.int64()),  # sum of the sample's member sizes in its shard
        ("source", pa.string()),
        ("source_id", pa.string()),
        ("input_index", pa.int32()),
        ("shot", pa.int32()),
        ("clip", pa.int32()),
        ("start_s", pa.float64()),
        ("end_s", pa.float64()),
        ("src_fps", pa.float64()),
        ("src_width", pa.int32()),
        ("src_height", pa.int32()),
        ("rotation", pa.int32()),
    ], metadata={"schema": MANIFEST_VERSION})


def rows_table(rows: list[dict[str, Any]], sch: Any, maps: tuple[str, ...] = ("rejected", "signals")) -> Any:
    """Rows → a pyarrow Table of schema `sch` (missing columns null); the `maps` columns as sorted (key, value) lists
    (deterministic bytes), whether a row holds them as dicts (a fresh record) or as pairs (read back from Parquet)."""
    import pyarrow as pa

    clean = []
    for row in rows:
        row = {name: row.get(name) for name in sch.names}
        for name in maps:
            row[name] = sorted(dict(row[name] or {}).items())
        clean.append(row)
    return pa.Table.from_pylist(clean, schema=sch)


def to_table(rows: list[dict[str, Any]]) -> Any:
    """Manifest rows → a pyarrow Table of the manifest schema (rows_table)."""
    return rows_table(rows, schema())


def fragment_bytes(rows: list[dict[str, Any]]) -> bytes:
    """One input's manifest fragment as Parquet bytes (written as one object / atomic file by the commit)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(to_table(rows), sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def read_fragment(data: bytes) -> list[dict[str, Any]]:
    """fragment_bytes' inverse: the input's rows, in lineage order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(pa.BufferReader(data))
    if (table.schema.metadata or {}).get(b"schema") != MANIFEST_VERSION.encode():
        raise ValueError(f"not a {MANIFEST_VERSION} fragment")
    return table.to_pylist()


class ManifestWriter:
    """Streams rows into `<path>.tmp` one row group at a time; `close()` renames it into place."""

    def __init__(self, path: str | Path, row_group: int):
        import pyarrow.parquet as pq

        self.path = Path(path)
        self.tmp = atomic.tmp_path(self.path)
        self.schema = schema()
        self.row_group = row_group
        self.rows: list[dict[str, Any]] = []
        self.writer = pq.ParquetWriter(str(self.tmp), self.schema, compression="zstd")

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.row_group:
            self._flush()

    def _flush(self) -> None:
        if self.rows:
            self.writer.write_table(to_table(self.rows))
            self.rows = []

    def close(self) -> None:
        import os

        self._flush()
        self.writer.close()
        with open(self.tmp, "rb") as fh:
            os.fsync(fh.fileno())
        atomic.commit(self.tmp, self.path)
