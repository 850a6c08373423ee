"""Random access into WebDataset tar shards without reading what is not needed.

`index_shard(path)` walks the tar headers only (tarfile seeks over member data on a seekable file), grouping members
into samples by WebDataset's rule (key = name up to the first dot of the basename); `read_sample(path, entry)` then
reads one sample's bytes. A reader that owns every world-th sample touches only its share of the data.
"""
from __future__ import annotations

import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from uvc_data.errors import BadInputError

_KEY_EXT = re.compile(r"^((?:.*/|)[^./]+)\.([^/]*)$")  # webdataset's base_plus_ext


@dataclass
class SampleEntry:
    key: str
    members: dict[str, tuple[int, int]] = field(default_factory=dict)  # extension → (data offset, size)


def index_shard(path: str | Path) -> list[SampleEntry]:
    """The samples of one shard in file order, with each member's data offset and size (headers only)."""
    out: list[SampleEntry] = []
    try:
        with tarfile.open(str(path), mode="r:") as tf:
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


def read_sample(path: str | Path, entry: SampleEntry) -> dict[str, bytes | str]:
    """{"__key__": key, extension: bytes} for one indexed sample, as webdataset yields it without decoders."""
    item: dict[str, bytes | str] = {"__key__": entry.key}
    with open(path, "rb") as fh:
        for ext, (offset, size) in entry.members.items():
            fh.seek(offset)
            data = fh.read(size)
            if len(data) != size:
                raise BadInputError(f"{path}: member {entry.key}.{ext} is truncated ({len(data)} of {size} bytes)")
            item[ext] = data
    return item
