"""Paths that may be URLs: `s3://bucket/key` (or any fsspec protocol) next to local paths, for inputs, shards and
out dirs. Local paths keep going through the builtin `open`; URLs through fsspec (s3:// needs s3fs: extra [s3])."""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import IO, Any, Iterator

from uvc_data.errors import ConfigError
from uvc_data.imports import require


def is_url(path: str | os.PathLike[str]) -> bool:
    """A `<protocol>://` URL other than file:// (those are local paths)."""
    text = str(path)
    return "://" in text and not text.startswith("file://")


def filesystem(url: str, field: str = "inputs") -> tuple[Any, str]:
    """(fsspec filesystem, path inside it) of a URL; an unknown protocol is a ConfigError on `field`."""
    fsspec = require("fsspec", "fsspec", "reading and writing URLs")
    if url.startswith(("s3://", "s3a://")):
        require("s3fs", "'uvc-toolkit[s3]' (or: pip install s3fs)", "s3:// inputs, shards and out dirs")
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise ConfigError(field, f"{url}: no filesystem for this URL ({exc}); use a local path or s3://bucket/key"
                          ) from exc


def open_binary(path: str | os.PathLike[str]) -> IO[bytes]:
    """A seekable binary file object for a local path or a URL (fsspec reads a URL in ranged, cached blocks)."""
    if is_url(path):
        fs, inner = filesystem(str(path))
        return fs.open(inner, "rb")
    return open(path, "rb")


@contextmanager
def media_source(path: str | os.PathLike[str]) -> Iterator[Any]:
    """What `av.open` is given for `path`: the path itself when local, a seekable fsspec file object for a URL
    (PyAV reads through it; docs/pipeline.md has the measured cost against copying the object first). Closed on
    exit."""
    if not is_url(path):
        yield str(path)
        return
    with open_binary(path) as fh:
        yield fh
