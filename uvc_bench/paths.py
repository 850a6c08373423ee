"""Paths inside a benchmark folder: every path an index names must stay inside the folder it is relative to."""
from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from uvc_data.errors import BadInputError


def resolve_inside(root: str | Path, rel: str, where: str = "") -> Path:
    """`root/rel` as an absolute path, or BadInputError when `rel` is absolute, climbs with `..`, or resolves
    (through symlinks) outside `root`. `where` (e.g. "indices/x.txt:3") prefixes the message."""
    prefix = f"{where}: " if where else ""
    if not isinstance(rel, str) or not rel.strip():
        raise BadInputError(f"{prefix}empty path; give a path relative to the suite folder")
    pure = PurePosixPath(rel.replace("\\", "/"))
    if pure.is_absolute() or os.path.isabs(rel) or (len(rel) > 1 and rel[1] == ":"):
        raise BadInputError(f"{prefix}path {rel!r} is absolute; index paths must be relative to the suite folder")
    if ".." in pure.parts:
        raise BadInputError(f"{prefix}path {rel!r} climbs out with '..'; index paths must stay inside the suite folder")
    base = Path(root).resolve()
    full = (base / Path(*pure.parts)).resolve()
    if full != base and base not in full.parents:
        raise BadInputError(f"{prefix}path {rel!r} resolves to {full}, outside the suite folder {base} "
                            "(a symlink escaping the folder?); copy the file into the suite instead")
    return full
