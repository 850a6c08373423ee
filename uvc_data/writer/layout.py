"""The out dir: where everything lives, the build lock, and the config fingerprint that guards resume.

Durable (the out dir: a local folder or an fsspec URL such as s3://bucket/prefix):
<out>/build.json                         fingerprint of the config that staged the samples (checked on every rerun),
                                         and per stage (stage_fingerprints)
<out>/shards/<source_id>-0000.tar        an input's shard group: its kept samples, in lineage order
<out>/inputs/<source_id>.parquet         the input's manifest fragment (kept and rejected rows)
<out>/inputs/<source_id>.done.json       its commit marker, written LAST (or <source_id>.failed.json)
<out>/manifest.parquet, failures.jsonl, stats.json
<out>/side/<stage>.parquet               side tables of `uvc data rerun` (uvc_data.side_tables)
Temporary (the staging dir: <out>/_staging for a local out dir, else a local scratch dir; writer.staging_dir):
<staging>/<source_id>/                   one <lineage>.tar per kept sample, then done.json; removed once committed
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from uvc_data.errors import ConfigError
from uvc_data.writer import atomic
from uvc_data.writer.config import WriterConfig
from uvc_data.writer.lock import BuildLock
from uvc_data.writer.store import Store

BUILD_SCHEMA = "uvc-build/2"
OLD_BUILD_SCHEMAS = ("uvc-build/1",)  # global shards packed by the driver at the end (shard-NNNNNN.tar)
SHARDS, INPUTS, SIDE = "shards", "inputs", "side"
BUILD_JSON, MANIFEST, FAILURES, STATS = "build.json", "manifest.parquet", "failures.jsonl", "stats.json"


class StagingDir:
    """Per-input temporary staging on a local (or shared) filesystem; what workers write before a commit."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def input_dir(self, source_id: str) -> Path:
        return self.root / source_id

    def done_marker(self, source_id: str) -> Path:
        return self.input_dir(source_id) / "done.json"

    def reset(self, source_id: str) -> None:
        shutil.rmtree(self.input_dir(source_id), ignore_errors=True)


def shard_name(source_id: str, i: int) -> str:
    """The i-th shard of an input's group: named by the input, so no other input's commit ever touches it."""
    return f"{source_id}-{i:04d}.tar"


def shard_owner(name: str) -> str:
    """The source_id a shard name belongs to (shard_name's inverse)."""
    return name.rsplit("-", 1)[0]


class OutDir:
    def __init__(self, root: str | Path, staging_dir: str | Path | None = None, lock_mode: str = "auto"):
        self.store = Store(root, staging_dir)
        self.root = self.store.url
        default = self.store.scratch if self.store.remote else Path(self.store.base) / "_staging"
        self.staging = StagingDir(staging_dir if staging_dir is not None else default)
        self._lock = BuildLock(self.store, lock_mode)

    def committed(self, source_id: str) -> str:
        return f"{INPUTS}/{source_id}.done.json"

    def failed(self, source_id: str) -> str:
        return f"{INPUTS}/{source_id}.failed.json"

    def fragment(self, source_id: str) -> str:
        return f"{INPUTS}/{source_id}.parquet"

    def prepare(self) -> None:
        self.store.prepare(SHARDS, INPUTS)
        self.staging.root.mkdir(parents=True, exist_ok=True)

    def lock(self) -> None:
        self._lock.acquire()

    def unlock(self) -> None:
        self._lock.release()

    def clear_input(self, source_id: str, names: set[str], shards: list[str]) -> None:
        """Remove what an unfinished commit (or an earlier failure) of the input left in the out dir."""
        for rel in (self.fragment(source_id), self.failed(source_id)):
            if rel.split("/", 1)[1] in names:
                self.store.remove(rel)
        for shard in shards:
            self.store.remove(f"{SHARDS}/{shard}")

    def restage_all(self) -> None:
        for d in (SHARDS, INPUTS, SIDE):  # side tables describe the samples being replaced
            self.store.remove_tree(d)
        shutil.rmtree(self.staging.root, ignore_errors=True)
        for f in (MANIFEST, FAILURES, STATS, BUILD_JSON):
            self.store.remove(f)
        self.prepare()


def fingerprint(config_fingerprint: str, writer: WriterConfig) -> str:
    """What the staged bytes depend on: the pipeline config (the caller's fingerprint) and the encoder settings
    (the writer's non-neutral fields, uvc_data.configurable.fingerprint)."""
    from uvc_data.configurable import fingerprint as config_fp

    return config_fp(writer, pipeline=config_fingerprint)


def read_build_record(store: Store) -> dict | None:
    """build.json, or None when the out dir has none."""
    return json.loads(store.read_bytes(BUILD_JSON)) if store.exists(BUILD_JSON) else None


def check_fingerprint(out: OutDir, config_fingerprint: str, writer: WriterConfig, on_change: str,
                      stage_fingerprints: dict[str, str] | None = None,
                      annotator_fingerprints: dict[str, str] | None = None) -> None:
    """Record the fingerprint on a fresh out dir; on a rerun refuse a different one unless `on_change` says how.
    An out dir of the older layout (global shards) is refused unless `on_change` is restage.

    `stage_fingerprints` (stage → fingerprint of the config it reads, uvc_data.writer.stage_change) are recorded
    too: a refusal names the stages that changed (and the `uvc data rerun` command when only stages that can be
    re-run from the shards changed), and a config whose every stage matches the recorded ones — what a
    `uvc data rerun` of the changed stages leaves — is accepted although its whole-config fingerprint differs."""
    from uvc_data.writer.stage_change import describe_change

    fp = fingerprint(config_fingerprint, writer)
    record = {"schema": BUILD_SCHEMA, "fingerprint": fp, "config_fingerprint": config_fingerprint,
              "crf": writer.crf, "preset": writer.preset, "encode_threads": writer.encode_threads}
    if stage_fingerprints:
        record["stage_fingerprints"] = dict(stage_fingerprints)
        record["annotator_fingerprints"] = dict(annotator_fingerprints or {})
    old = read_build_record(out.store)
    if old is not None:
        if old.get("schema") in OLD_BUILD_SCHEMAS and on_change != "restage":
            raise ConfigError(
                "executor.on_config_change",
                f"{out.root} was built with the earlier layout {old.get('schema')} (global shards shard-NNNNNN.tar "
                "packed at the end); its shards and manifest stay readable, but a build cannot add to it. Use a new "
                "out dir, or set executor.on_config_change='restage' to rebuild it in place with the shard-group "
                f"layout {BUILD_SCHEMA}.")
        same_stages = bool(stage_fingerprints) and old.get("stage_fingerprints") == record.get("stage_fingerprints")
        if old.get("schema") in OLD_BUILD_SCHEMAS:
            out.restage_all()
        elif old.get("fingerprint") != fp and not same_stages:
            if on_change == "error":
                which = describe_change(out.root, old.get("stage_fingerprints"), stage_fingerprints)
                raise ConfigError(
                    "executor.on_config_change",
                    f"{out.root} was staged with config fingerprint {old.get('fingerprint')} "
                    f"(config {old.get('config_fingerprint')}, crf {old.get('crf')}, preset {old.get('preset')}, "
                    f"encode_threads {old.get('encode_threads')}); this run has {fp} (config {config_fingerprint}, "
                    f"crf {writer.crf}, preset {writer.preset}, encode_threads {writer.encode_threads}). "
                    + (which + " " if which else "") +
                    "Use a new out dir, or set executor.on_config_change='restage' to rebuild everything, or "
                    "'keep' to keep the inputs built so far and build only the rest with the new config.")
            if on_change == "restage":
                out.restage_all()
    out.store.write_bytes(BUILD_JSON, (atomic.dumps(record) + "\n").encode("utf-8"))
