"""Committing one input: its staged samples → its shard group in the out dir, where the worker that finished it is.

Once every sample of an input is staged (its staging done.json exists), `commit_input` writes, each atomically (a
local rename or one whole-object PUT):
  1. shards/<source_id>-0000.tar, -0001.tar, ...  its kept samples in lineage order, at most N samples / B bytes each
  2. inputs/<source_id>.parquet                  its manifest fragment (kept and rejected rows, shard + position)
  3. inputs/<source_id>.done.json                the commit marker, LAST: fragment, shards, counts, seconds, stats,
                                                 the stage fingerprints of build.json
and then removes the input's staging folder. The bytes depend on the input's samples alone — not on scheduling, not
on the other inputs — so a resumed or repeated commit writes the same files, and adding inputs to a later build
never rewrites a committed shard. A killed commit leaves no marker: the next run clears what it left and commits
again from the staged samples.
"""
from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from uvc_data.errors import UVCError
from uvc_data.shards import write_tar
from uvc_data.writer import atomic
from uvc_data.writer.config import WriterConfig
from uvc_data.writer.layout import SHARDS, OutDir, read_build_record, shard_name
from uvc_data.writer.manifest import fragment_bytes
from uvc_data.writer.records import OK
from uvc_data.writer.staging import load_marker

TAR_END = 1024  # two zero blocks close a tar; tarfile pads to a 10240-byte record
COMMIT_SCHEMA = "uvc-commit/1"


@dataclass
class CommitResult:
    source_id: str
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


def _groups(kept: list[dict[str, Any]], cfg: WriterConfig) -> list[list[dict[str, Any]]]:
    groups: list[list[dict[str, Any]]] = []
    for rec, shard, pos in assign_shards(iter(kept), cfg):
        if shard == len(groups):
            groups.append([])
        groups[shard].append(rec | {"shard_index": shard, "position": pos})
    return groups


def _stage_record(out: OutDir) -> dict[str, Any]:
    """The per-stage fingerprints build.json records (written before any commit), for the commit marker: what
    `uvc data rerun` compares to know which stages of this input are current."""
    record = read_build_record(out.store) or {}
    return {k: record[k] for k in ("stage_fingerprints", "annotator_fingerprints") if k in record}


def commit_input(out: OutDir, source_id: str, cfg: WriterConfig) -> CommitResult:
    """Write the staged input's shard group, fragment and marker (in that order), then drop its staging."""
    marker = load_marker(out.staging, source_id)
    if marker is None:
        raise UVCError(f"input {source_id} has no staging marker in {out.staging.input_dir(source_id)}: "
                       "it was not staged (rerun the build to stage it)")
    folder = out.staging.input_dir(source_id)
    records = marker["records"]
    groups = _groups([r for r in records if r["status"] == OK], cfg)
    placed: dict[str, dict[str, Any]] = {}
    names = []
    for i, group in enumerate(groups):
        name = shard_name(source_id, i)
        rel = f"{SHARDS}/{name}"
        write_tar(out.store.local_target(rel), (read_part(folder / rec["part"], rec["key"]) for rec in group))
        out.store.publish(rel)
        names.append(name)
        for rec in group:
            placed[rec["key"]] = {"shard": name, "shard_index": rec["shard_index"], "position": rec["position"]}
    rows = [rec | placed.get(rec["key"], {"shard": None, "shard_index": None, "position": None}) for rec in records]
    out.store.write_bytes(out.fragment(source_id), fragment_bytes(rows))
    kept = [r for r in records if r["status"] == OK]
    result = CommitResult(source_id, len(names), len(kept), len(records) - len(kept), sum(r["bytes"] for r in kept))
    commit = {"schema": COMMIT_SCHEMA, "source": marker["source"], "source_id": source_id, "index": marker["index"],
              "fragment": out.fragment(source_id).split("/", 1)[1], "shards": names, "samples": result.samples,
              "rejected": result.rejected, "bytes": result.bytes, "seconds": marker["seconds"],
              "stats": marker["stats"], **_stage_record(out)}
    out.store.write_bytes(out.committed(source_id), (atomic.dumps(commit) + "\n").encode("utf-8"))
    out.staging.reset(source_id)
    return result
