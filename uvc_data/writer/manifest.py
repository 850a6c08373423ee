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
        self.rows.append({name: row.get(name) for name in self.schema.names})
        if len(self.rows) >= self.row_group:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self.rows:
            for row in self.rows:  # maps as sorted (key, value) lists: deterministic bytes
                row["rejected"] = sorted(row["rejected"].items())
                row["signals"] = sorted(row["signals"].items())
            self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
            self.rows = []

    def close(self) -> None:
        import os

        self._flush()
        self.writer.close()
        with open(self.tmp, "rb") as fh:
            os.fsync(fh.fileno())
        atomic.commit(self.tmp, self.path)
