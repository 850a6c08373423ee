"""Input discovery: files, folders (recursive), globs and list files → a sorted, de-duplicated list of VideoInputs.

`source_id` = sanitised file stem + a 10-hex hash of (path relative to the common root of all inputs, file size):
stable when the whole input tree moves, different for two files that share a stem. It contains no dots, so it can
prefix WebDataset keys. Adding inputs outside the current common root changes the root, hence every source_id (a
resumed build then restages everything): keep one root per out dir.

URLs (`s3://bucket/videos/`, `s3://bucket/videos/**/*.mp4`, a single object; anything fsspec opens) are expanded
through fsspec the same way; their relative paths are taken inside the store, so the same tree gives the same
source_ids whether it is read from a local folder or from a bucket.
"""
from __future__ import annotations

import glob
import hashlib
import os
import re
from pathlib import Path

from uvc_data.errors import BadInputError
from uvc_data.sample import VideoInput
from uvc_data.remote import filesystem, is_url

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts",
                    ".flv", ".wmv", ".mxf", ".3gp", ".y4m")
LIST_EXTENSIONS = (".txt", ".lst")
_GLOB_CHARS = "*?["


def sanitise(stem: str, max_len: int = 40) -> str:
    """Keep [A-Za-z0-9_-]; everything else (dots included) becomes '_'; never empty."""
    clean = re.sub(r"[^A-Za-z0-9_-]", "_", stem)[:max_len].strip("_-")
    return clean or "input"


def _url_size(url: str) -> int:
    """An object's size, or -1 when it does not exist (a missing input is recorded as a failure, as locally)."""
    fs, path = filesystem(url)
    try:
        return int(fs.size(path) or 0)
    except FileNotFoundError:
        return -1


def make_source_id(path: str, root: str, size: int) -> str:
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    digest = hashlib.sha1(f"{rel}\0{size}".encode("utf-8")).hexdigest()[:10]
    return f"{sanitise(Path(path).stem)}-{digest}"


def _read_list(list_file: str) -> list[str]:
    """One path per line; blank lines and `#` comments skipped; relative paths are relative to the list file."""
    if not os.path.isfile(list_file):
        raise BadInputError(f"list file {list_file!r} not found: give an existing file after '@'")
    base = os.path.dirname(os.path.abspath(list_file))
    out = []
    for line in Path(list_file).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        out.append(line if os.path.isabs(line) or is_url(line) else os.path.join(base, line))
    return out


def _expand_url(item: str, extensions: tuple[str, ...]) -> dict[str, int]:
    """A URL (object, prefix or glob) → {url: size} through fsspec."""
    fs, path = filesystem(item)
    proto = item.split("://", 1)[0]

    def url(p: str) -> str:
        return f"{proto}://{p.lstrip('/')}"

    if any(c in path for c in _GLOB_CHARS):
        found = {url(p): int(info.get("size") or 0) for p, info in fs.glob(path, detail=True).items()
                 if info.get("type") == "file"}
        if not found:
            raise BadInputError(f"glob {item!r} matches no objects: check the pattern (quote it so the shell keeps it)")
        return found
    if fs.isdir(path):
        found = {url(p): int(info.get("size") or 0) for p, info in fs.find(path, detail=True).items()
                 if p.lower().endswith(extensions) and not p.rsplit("/", 1)[-1].startswith(".")}
        if not found:
            raise BadInputError(f"{item!r} holds no videos with extensions {', '.join(extensions)}: give another "
                                "prefix or pass `extensions`")
        return found
    if fs.isfile(path):
        return {item: int(fs.size(path) or 0)}
    raise BadInputError(f"input {item!r} does not exist: give an object, a prefix or a glob")


def _key_path(p: str) -> str:
    """Where a path sits for source ids: a local absolute path, or "/" + the path inside a URL's store."""
    return "/" + p.split("://", 1)[1].lstrip("/") if is_url(p) else p


def _expand(item: str, extensions: tuple[str, ...]) -> tuple[list[str], bool]:
    """One command-line item → (paths, from_list). Paths from list files may be missing (recorded as failures)."""
    if item.startswith("@"):
        return _read_list(item[1:]), True
    if os.path.isdir(item):
        found = []
        for dirpath, dirnames, filenames in os.walk(item, followlinks=True):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            found.extend(os.path.join(dirpath, f) for f in filenames
                         if f.lower().endswith(extensions) and not f.startswith("."))
        if not found:
            raise BadInputError(f"folder {item!r} holds no videos with extensions {', '.join(extensions)}: "
                                "give another folder or pass `extensions`")
        return found, False
    if any(c in item for c in _GLOB_CHARS):
        found = [p for p in glob.glob(item, recursive=True) if os.path.isfile(p)]
        if not found:
            raise BadInputError(f"glob {item!r} matches no files: check the pattern (quote it so the shell keeps it)")
        return found, False
    if os.path.isfile(item):
        if item.lower().endswith(LIST_EXTENSIONS):
            return _read_list(item), True
        return [item], False
    raise BadInputError(f"input {item!r} does not exist: give a video file, a folder, a glob or @list.txt")


def discover_inputs(items: list[str], extensions: tuple[str, ...] = VIDEO_EXTENSIONS) -> list[VideoInput]:
    """Files, folders (recursive, `extensions`), globs, `@list.txt` or a .txt/.lst list → sorted VideoInputs.

    Explicit files are taken whatever their extension. Duplicates (same absolute path) are kept once; `index` is the
    position in the sorted list and fixes the order of samples in the shards.
    """
    if not items:
        raise BadInputError("no inputs given: pass video files, folders, globs or @list.txt")
    exts = tuple(e.lower() for e in extensions)
    sizes: dict[str, int] = {}
    for item in items:
        item = str(item)
        if is_url(item):
            sizes.update(_expand_url(item, exts))
            continue
        found, _ = _expand(item, exts)
        for p in found:
            if is_url(p):  # from a list file
                sizes.update(_expand_url(p, exts) if any(c in p for c in _GLOB_CHARS) else {p: _url_size(p)})
            else:
                p = os.path.abspath(p)
                sizes[p] = os.path.getsize(p) if os.path.isfile(p) else -1
    ordered = sorted(sizes)
    root = os.path.commonpath([os.path.dirname(_key_path(p)) for p in ordered])
    out: list[VideoInput] = []
    seen: dict[str, str] = {}
    for i, p in enumerate(ordered):
        sid = make_source_id(_key_path(p), root, sizes[p])
        if sid in seen:  # would need a 40-bit hash collision between distinct relative paths
            raise BadInputError(f"inputs {seen[sid]!r} and {p!r} got the same source_id {sid}: rename one of them")
        seen[sid] = p
        out.append(VideoInput(path=p, source_id=sid, index=i))
    return out
