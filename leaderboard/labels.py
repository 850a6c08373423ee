"""Names derived from entries: a short row label per run and a safe file name per model."""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict

from leaderboard.model import Entry


def slug(name: str, fallback: str = "item") -> str:
    """A file-name-safe, unique slug: lower-case [a-z0-9-] from the name, plus 8 hex of its SHA-256 (so two names
    that differ only in punctuation, or a hostile name such as "../x", still get distinct, harmless file names)."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or fallback
    return f"{base}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:8]}"


def file_name(name: str) -> str:
    """`name` itself when it is already a plain lower-case file name (task names: "depth", "reference+pose"),
    otherwise its slug."""
    return name if re.fullmatch(r"[a-z0-9][a-z0-9+_-]{0,63}", name) else slug(name)


def model_slug(model: str) -> str:
    return slug(model, "model")


def entry_labels(entries: list[Entry]) -> dict[int, str]:
    """id(entry) → label: the model name, plus the settings that differ between runs of the same model
    ("VDOT (steps=8)"); runs with identical settings are told apart by their results file."""
    by_model: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        by_model[e.model].append(e)
    labels: dict[int, str] = {}
    for model, runs in by_model.items():
        if len(runs) == 1:
            labels[id(runs[0])] = model
            continue
        keys = sorted({k for r in runs for k in r.settings})
        differing = [k for k in keys if len({str(r.settings.get(k)) for r in runs}) > 1]
        for r in runs:
            parts = [f"{k}={str(r.settings.get(k))}" for k in differing] or [f"file={r.source}"]
            labels[id(r)] = f"{model} ({', '.join(parts)})"
    return labels
