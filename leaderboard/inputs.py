"""Results inputs → validated entries. A bad file is skipped with a message naming it and its problem; the rest go on.

An input is a file, a folder or a glob pattern. Files named directly or matched by a glob are always read as results
files. In a folder (searched recursively) a JSON file is a candidate only if it is an object with a
`schema_version` key, so VBench exports or per-case JSON next to results.json are passed over (and counted).
"""
from __future__ import annotations

import glob
import json
from dataclasses import dataclass, field
from pathlib import Path

from leaderboard.adapter import entry_from_dict
from leaderboard.model import Entry
from uvc_data.errors import BadInputError


@dataclass
class Loaded:
    entries: list[Entry] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    ignored: list[str] = field(default_factory=list)  # JSON files in folders that are not results files


def expand(specs: list[str]) -> tuple[list[Path], list[Path], list[tuple[str, str]]]:
    """(explicit files, JSON files found in folders, problems), each list sorted and without duplicates."""
    explicit: dict[Path, Path] = {}
    found: dict[Path, Path] = {}
    problems: list[tuple[str, str]] = []
    for spec in specs:
        p = Path(spec)
        if p.is_dir():
            for f in sorted(p.rglob("*.json")):
                if f.is_file():
                    found.setdefault(f.resolve(), f)
        elif p.is_file():
            explicit.setdefault(p.resolve(), p)
        elif glob.has_magic(spec):
            matches = sorted(glob.glob(spec, recursive=True))
            files = [Path(m) for m in matches if Path(m).is_file()]
            if not files:
                problems.append((spec, "the pattern matches no file; check the pattern and quote it in the shell"))
            for f in files:
                explicit.setdefault(f.resolve(), f)
        else:
            problems.append((spec, "no such file or folder; give a results file (results.json), a folder or a glob"))
    found = {k: v for k, v in found.items() if k not in explicit}
    return (sorted(explicit.values(), key=str), sorted(found.values(), key=str), problems)


def _read(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInputError(f"cannot read it: {exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(f"not a JSON file ({exc}); give a results file written by `uvc bench score`") from exc


def load(specs: list[str]) -> Loaded:
    """Expand, read and validate every input; entries come back in their deterministic order (Entry.sort_key)."""
    explicit, found, problems = expand(specs)
    out = Loaded(skipped=list(problems))
    for path, from_folder in [(p, False) for p in explicit] + [(p, True) for p in found]:
        try:
            data = _read(path)
        except BadInputError as exc:
            if from_folder:
                out.ignored.append(str(path))
            else:
                out.skipped.append((str(path), str(exc)))
            continue
        if from_folder and not (isinstance(data, dict) and "schema_version" in data):
            out.ignored.append(str(path))
            continue
        try:
            out.entries.append(entry_from_dict(data, str(path)))
        except BadInputError as exc:
            out.skipped.append((str(path), str(exc)))
    out.entries.sort(key=lambda e: e.sort_key)
    out.skipped.sort()
    out.ignored.sort()
    return out
