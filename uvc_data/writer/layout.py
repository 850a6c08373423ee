"""The out dir: where everything lives, the build lock, and the config fingerprint that guards resume.

<out>/build.json                  fingerprint of the config that staged the samples (checked on every rerun)
<out>/_staging/<source_id>/       per input: one <lineage>.tar per kept sample, then done.json (or failed.json)
<out>/shards/shard-000000.tar     packed WebDataset shards
<out>/manifest.parquet, failures.jsonl, stats.json
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

from uvc_data.errors import ConfigError, UVCError
from uvc_data.writer import atomic
from uvc_data.writer.config import WriterConfig

BUILD_SCHEMA = "uvc-build/1"


class OutDir:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.staging = self.root / "_staging"
        self.shards = self.root / "shards"
        self.build_json = self.root / "build.json"
        self.manifest = self.root / "manifest.parquet"
        self.failures = self.root / "failures.jsonl"
        self.stats = self.root / "stats.json"
        self._lock_fh: Any = None
        self._owns_file = False

    def input_dir(self, source_id: str) -> Path:
        return self.staging / source_id

    def done_marker(self, source_id: str) -> Path:
        return self.input_dir(source_id) / "done.json"

    def failed_marker(self, source_id: str) -> Path:
        return self.input_dir(source_id) / "failed.json"

    def shard_path(self, i: int) -> Path:
        return self.shards / f"shard-{i:06d}.tar"

    def prepare(self) -> None:
        for d in (self.root, self.staging, self.shards):
            d.mkdir(parents=True, exist_ok=True)

    def lock(self) -> None:
        """One build per out dir at a time. flock on `.lock` (the kernel releases it, even on kill -9); on a
        filesystem without flock (some network filesystems) an owner file created exclusively instead
        (`.lock.owner`: host, pid, start), taken over when its owner is a dead process on this host."""
        self._lock_fh = open(self.root / ".lock", "w")
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_fh.close()
            self._lock_fh = None
            raise UVCError(f"another build is running in {self.root}: wait for it, or use another out dir") from None
        except OSError:  # ENOLCK / EOPNOTSUPP / ENOSYS: this filesystem has no flock
            self._lock_fh.close()
            self._lock_fh = None
            self._owner_lock()

    @property
    def owner_file(self) -> Path:
        return self.root / ".lock.owner"

    def _owner_lock(self) -> None:
        me = {"host": socket.gethostname(), "pid": os.getpid(), "since": time.time()}
        for _ in range(2):
            try:
                fd = os.open(self.owner_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    owner = json.loads(self.owner_file.read_text() or "{}")
                except (OSError, ValueError):
                    owner = {}
                if owner.get("host") == me["host"] and not _alive(int(owner.get("pid", -1))):
                    self.owner_file.unlink(missing_ok=True)  # its build died on this host: stale
                    continue
                raise UVCError(
                    f"another build holds {self.owner_file} (host {owner.get('host')}, pid {owner.get('pid')}; this "
                    "filesystem has no flock, so the lock is that file): wait for it, use another out dir, or — if "
                    "no build is running there — delete the file") from None
            with os.fdopen(fd, "w") as fh:
                json.dump(me, fh)
            self._owns_file = True
            return

    def unlock(self) -> None:
        if self._lock_fh is not None:
            fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None
        if self._owns_file:
            self.owner_file.unlink(missing_ok=True)
            self._owns_file = False

    def reset_staging(self, source_id: str) -> None:
        shutil.rmtree(self.input_dir(source_id), ignore_errors=True)

    def restage_all(self) -> None:
        for d in (self.staging, self.shards):
            shutil.rmtree(d, ignore_errors=True)
        for f in (self.manifest, self.failures, self.stats, self.build_json):
            f.unlink(missing_ok=True)
        self.prepare()


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fingerprint(config_fingerprint: str, writer: WriterConfig) -> str:
    """What the staged bytes depend on: the pipeline config (the caller's fingerprint) and the encoder settings
    (the writer's non-neutral fields, uvc_data.configurable.fingerprint)."""
    from uvc_data.configurable import fingerprint as config_fp

    return config_fp(writer, pipeline=config_fingerprint)


def check_fingerprint(out: OutDir, config_fingerprint: str, writer: WriterConfig, on_change: str) -> None:
    """Record the fingerprint on a fresh out dir; on a rerun refuse a different one unless `on_change` says how."""
    fp = fingerprint(config_fingerprint, writer)
    record = {"schema": BUILD_SCHEMA, "fingerprint": fp, "config_fingerprint": config_fingerprint,
              "crf": writer.crf, "preset": writer.preset, "encode_threads": writer.encode_threads}
    if out.build_json.exists():
        old = json.loads(out.build_json.read_text())
        if old.get("fingerprint") != fp:
            if on_change == "error":
                raise ConfigError(
                    "executor.on_config_change",
                    f"{out.root} was staged with config fingerprint {old.get('fingerprint')} "
                    f"(config {old.get('config_fingerprint')}, crf {old.get('crf')}, preset {old.get('preset')}, "
                    f"encode_threads {old.get('encode_threads')}); this run has {fp} (config {config_fingerprint}, "
                    f"crf {writer.crf}, preset {writer.preset}, encode_threads {writer.encode_threads}). "
                    "Use a new out dir, or set executor.on_config_change='restage' to rebuild everything, or "
                    "'keep' to keep the inputs staged so far and stage only the rest with the new config.")
            if on_change == "restage":
                out.restage_all()
    atomic.write_json(out.build_json, record)
