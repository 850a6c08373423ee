"""Packing: staged samples → shards of at most N samples / B bytes, in input order then lineage order, plus the
manifest. Streams one sample at a time; every output is written atomically, so a killed pack is simply redone."""
from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from uvc_data.errors import UVCError
from uvc_data.sample import VideoInput
from uvc_data.shards import write_tar
from uvc_data.writer.config import WriterConfig
from uvc_data.writer.layout import OutDir
from uvc_data.writer.manifest import ManifestWriter
from uvc_data.writer.records import OK
from uvc_data.writer.staging import load_marker

TAR_END = 1024  # two zero blocks close a tar; tarfile pads to a 10240-byte record


@dataclass
class PackResult:
    shards: int
    samples: int
    rejected: int
    bytes: int


def read_part(path: Path, key: str) -> dict[str, bytes | str]:
    """One staged sample tar → {"__key__": key, ext: bytes} as shards.write_tar takes it."""
    item: dict[str, bytes | str] = {"__key__": key}
    with tarfile.open(path, "r") as tar:
        for member in tar.getmembers():
            if not member.name.startswith(key + "."):
                raise UVCError(f"staged part {path} holds {member.name!r}, not sample {key!r}: "
                               f"delete {path.parent} and rerun to stage it again")
            fh = tar.extractfile(member)
            item[member.name[len(key) + 1:]] = fh.read() if fh else b""
    return item


def assign_shards(records: Iterator[dict[str, Any]], cfg: WriterConfig) -> Iterator[tuple[dict[str, Any], int, int]]:
    """(record, shard index, position) for kept records: a shard closes at N samples or before exceeding B bytes."""
    shard, count, size = 0, 0, TAR_END
    for rec in records:
        if count and (count >= cfg.samples_per_shard or size + rec["tar_bytes"] > cfg.max_shard_bytes):
            shard, count, size = shard + 1, 0, TAR_END
        yield rec, shard, count
        count += 1
        size += rec["tar_bytes"]


def _staged_records(out: OutDir, inputs: list[VideoInput]) -> Iterator[dict[str, Any]]:
    seen: set[str] = set()
    for vi in sorted(inputs, key=lambda v: v.index):
        marker = load_marker(out, vi.source_id)
        if marker is None:
            continue
        for rec in marker["records"]:
            if rec["key"] in seen:
                raise UVCError(f"sample key {rec['key']!r} occurs twice (input {vi.path}): the steps must make keys "
                               "unique, e.g. <source_id>_<clip>")
            seen.add(rec["key"])
            yield rec | {"_dir": str(out.input_dir(vi.source_id))}


def pack(out: OutDir, inputs: list[VideoInput], cfg: WriterConfig) -> PackResult:
    manifest = ManifestWriter(out.manifest, cfg.manifest_row_group)
    result = PackResult(0, 0, 0, 0)
    current: list[Any] = []  # [shard index, generator feeding write_tar] of the open shard

    def kept() -> Iterator[dict[str, Any]]:
        for rec in _staged_records(out, inputs):
            if rec["status"] == OK:
                yield rec
            else:
                result.rejected += 1
                manifest.add(rec)

    def shard_items(first: tuple[dict[str, Any], int, int], rest: Iterator) -> Iterator[dict[str, bytes | str]]:
        rec, shard, pos = first
        while True:
            manifest.add(rec | {"shard": out.shard_path(shard).name, "shard_index": shard, "position": pos})
            result.samples += 1
            result.bytes += rec["bytes"]
            yield read_part(Path(rec["_dir"]) / rec["part"], rec["key"])
            nxt = next(rest, None)
            if nxt is None:
                return
            if nxt[1] != shard:
                current[:] = [nxt]
                return
            rec, shard, pos = nxt

    assigned = assign_shards(kept(), cfg)
    nxt = next(assigned, None)
    while nxt is not None:
        current[:] = []
        write_tar(out.shard_path(nxt[1]), shard_items(nxt, assigned))
        result.shards += 1
        nxt = current[0] if current else None
    manifest.close()
    _remove_stale_shards(out, result.shards)
    return result


def _remove_stale_shards(out: OutDir, count: int) -> None:
    """Shards numbered past this pack's last one (an earlier run packed with other limits) are deleted."""
    for path in out.shards.glob("shard-*.tar"):
        try:
            index = int(path.stem.split("-")[1])
        except (IndexError, ValueError):
            continue
        if index >= count:
            path.unlink()
