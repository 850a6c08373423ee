"""Atomic file writes: write `<path>.tmp`, fsync, rename, fsync the folder. A killed writer leaves only `*.tmp`."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

TMP_SUFFIX = ".tmp"


def fsync_dir(path: str | Path) -> None:
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def tmp_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + TMP_SUFFIX)


def commit(tmp: str | Path, path: str | Path) -> None:
    """Rename a finished, fsynced tmp file into place and make the rename durable."""
    os.replace(tmp, path)
    fsync_dir(Path(path).parent)


def write_bytes(path: str | Path, data: bytes) -> None:
    tmp = tmp_path(path)
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    commit(tmp, path)


def dumps(obj: Any) -> str:
    """Canonical JSON (sorted keys, UTF-8): the same object always gives the same bytes."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=1)


def write_json(path: str | Path, obj: Any) -> None:
    write_bytes(path, (dumps(obj) + "\n").encode("utf-8"))


def write_lines(path: str | Path, lines: list[str]) -> None:
    write_bytes(path, "".join(line + "\n" for line in lines).encode("utf-8"))


def sweep_tmp(root: str | Path) -> int:
    """Delete stale `*.tmp` files left under `root` by killed writers; returns how many."""
    n = 0
    for dirpath, _, filenames in os.walk(root):
        for f in filenames:
            if f.endswith(TMP_SUFFIX):
                os.remove(os.path.join(dirpath, f))
                n += 1
    return n
