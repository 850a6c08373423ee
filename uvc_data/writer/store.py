"""Where a build's durable outputs live: a local folder or any fsspec URL (`s3://bucket/prefix`, ...).

Every write is atomic for readers. Local folder: `<file>.tmp`, fsync, rename, fsync of the folder (uvc_data.writer.
atomic). Object store (no rename): one whole-object PUT (a multipart upload is atomic too: the object appears only
when it completes), so an object either exists complete or not at all. Big files (shard tars, the manifest) are
written to a local file first (`local_target`) and then published (`publish`): on a local out dir the local target is
the final path, on a store it is a scratch file that is uploaded and deleted.

The store counts the bytes it reads (`bytes_read`), so the cost of finishing a build can be measured.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from uvc_data.remote import filesystem, is_url
from uvc_data.writer import atomic


def default_scratch(url: str) -> Path:
    """Local scratch for an out dir on a store: one folder per URL under the system temp dir."""
    digest = hashlib.sha1(url.encode("utf-8")).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"uvc-staging-{digest}"


class Store:
    """An out dir's durable files, addressed by paths relative to its root ("shards/x.tar", "inputs/y.json")."""

    def __init__(self, root: str | os.PathLike[str], scratch: str | os.PathLike[str] | None = None):
        self.url = str(root).rstrip("/") if is_url(root) else str(root)
        self.remote = is_url(root)
        self.bytes_read = 0
        if self.remote:
            self.fs, self.base = filesystem(self.url, field="out")
            self.scratch = Path(scratch) if scratch is not None else default_scratch(self.url)
        else:
            self.fs, self.base = None, str(Path(str(root).removeprefix("file://")))
            self.scratch = Path(self.base)

    def __str__(self) -> str:
        return self.url

    @property
    def protocol(self) -> str:
        if not self.remote:
            return "file"
        proto = self.fs.protocol
        return proto[0] if isinstance(proto, (tuple, list)) else proto

    def where(self, rel: str) -> str:
        """The full path or URL of `rel` (for messages, and for readers given a URL)."""
        return f"{self.url}/{rel}" if self.remote else str(Path(self.base) / rel)

    def _full(self, rel: str) -> str:
        return f"{self.base}/{rel}" if self.remote else str(Path(self.base) / rel)

    def prepare(self, *folders: str) -> None:
        if not self.remote:
            for d in ("", *folders):
                Path(self.base, d).mkdir(parents=True, exist_ok=True)

    def read_bytes(self, rel: str) -> bytes:
        if self.remote:
            data = self.fs.cat_file(self._full(rel))
        else:
            data = Path(self._full(rel)).read_bytes()
        self.bytes_read += len(data)
        return data

    def exists(self, rel: str) -> bool:
        if self.remote:
            return self.fs.exists(self._full(rel))
        return os.path.exists(self._full(rel))

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Atomic for readers: tmp + fsync + rename locally, one whole-object PUT on a store."""
        if self.remote:
            self.fs.pipe_file(self._full(rel), data)
        else:
            atomic.write_bytes(self._full(rel), data)

    def create_exclusive(self, rel: str, data: bytes) -> None:
        """Write `rel` only if it does not exist (FileExistsError otherwise): O_EXCL locally, a conditional PUT
        (If-None-Match: *) on S3. Other stores raise NotImplementedError."""
        if not self.remote:
            fd = os.open(self._full(rel), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            return
        if self.protocol not in ("s3", "s3a"):
            raise NotImplementedError(f"{self.protocol}:// has no conditional put known to this toolkit")
        self.fs.pipe_file(self._full(rel), data, mode="create")

    def local_target(self, rel: str) -> Path:
        """Where to write `rel` locally before `publish(rel)`: the final path locally, a scratch file on a store."""
        path = Path(self.scratch if self.remote else self.base) / ("_upload" if self.remote else "") / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def publish(self, rel: str) -> None:
        """Make the file written at local_target(rel) durable at rel (a store: upload it, then delete it)."""
        if self.remote:
            local = self.local_target(rel)
            self.fs.put_file(str(local), self._full(rel))
            local.unlink()

    def list(self, folder: str) -> list[str]:
        """Names of the files directly in `folder` (sorted; empty when it does not exist)."""
        if self.remote:
            path = self._full(folder)
            self.fs.invalidate_cache(path)
            try:
                entries = self.fs.ls(path, detail=False)
            except FileNotFoundError:
                return []
            return sorted(e.rstrip("/").rsplit("/", 1)[-1] for e in entries)
        path = Path(self._full(folder))
        return sorted(p.name for p in path.iterdir() if p.is_file()) if path.is_dir() else []

    def remove(self, rel: str) -> None:
        if self.remote:
            try:
                self.fs.rm_file(self._full(rel))
            except FileNotFoundError:
                pass
        else:
            Path(self._full(rel)).unlink(missing_ok=True)

    def remove_tree(self, folder: str) -> None:
        if self.remote:
            if self.fs.exists(self._full(folder)):
                self.fs.rm(self._full(folder), recursive=True)
            self.fs.invalidate_cache()
        else:
            shutil.rmtree(self._full(folder), ignore_errors=True)
