"""Random access into WebDataset tar shards without reading what is not needed.

`index_shard(path)` walks the tar headers only (tarfile seeks over member data on a seekable file), grouping members
into samples by WebDataset's rule (key = name up to the first dot of the basename); `read_sample(path, entry)` then
reads one sample's bytes. A reader that owns every world-th sample touches only its share of the data. Shards may be
local paths or URLs (s3://...: read through fsspec in ranged requests, so the same holds on an object store).
"""
from __future__ import annotations

import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from uvc_data.errors import BadInputError
from uvc_data.remote import open_binary

_KEY_EXT = re.compile(r"^((?:.*/|)[^./]+)\.([^/]*)$")  # webdataset's base_plus_ext


@dataclass
class SampleEntry:
    key: str
    members: dict[str, tuple[int, int]] = field(default_factory=dict)  # extension → (data offset, size)


def index_shard(path: str | Path) -> list[SampleEntry]:
    """The samples of one shard in file order, with each member's data offset and size (headers only)."""
    out: list[SampleEntry] = []
    try:
        with open_binary(path) as fh, tarfile.open(fileobj=fh, mode="r:") as tf:
            for m in tf:
                if not m.isfile():
                    continue
                match = _KEY_EXT.match(m.name)
                if match is None:
                    continue
                key, ext = match.group(1), match.group(2)
                if not out or out[-1].key != key:
                    out.append(SampleEntry(key))
                out[-1].members[ext] = (m.offset_data, m.size)
    except tarfile.ReadError as e:
        raise BadInputError(f"{path}: not a readable tar shard ({e}); rebuild it with `uvc data build`") from e
    return out


def _read(fh, path: str | Path, entry: SampleEntry) -> dict[str, bytes | str]:
    item: dict[str, bytes | str] = {"__key__": entry.key}
    for ext, (offset, size) in entry.members.items():
        fh.seek(offset)
        data = fh.read(size)
        if len(data) != size:
            raise BadInputError(f"{path}: member {entry.key}.{ext} is truncated ({len(data)} of {size} bytes)")
        item[ext] = data
    return item


def read_sample(path: str | Path, entry: SampleEntry) -> dict[str, bytes | str]:
    """{"__key__": key, extension: bytes} for one indexed sample, as webdataset yields it without decoders."""
    with open_binary(path) as fh:
        return _read(fh, path, entry)


def iter_shard(path: str | Path) -> Iterator[dict[str, bytes | str]]:
    """Every sample of one shard, in file order, as read_sample gives them (one open file)."""
    entries = index_shard(path)
    with open_binary(path) as fh:
        for entry in entries:
            yield _read(fh, path, entry)
