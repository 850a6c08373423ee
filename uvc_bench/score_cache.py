"""The resumable per-case scoring cache: a killed `uvc bench score` continues where it stopped.

One JSON file per scored video under the cache folder (default `<outputs>/.score_cache/`), named by the video's
SHA-256, holding every dimension value keyed by dimension, backend and metric dtype ("dim|backend|dtype"), and the
condition-fidelity report keyed by case id (fidelity also depends on the case's inputs). A changed video has another
hash, another backend another key: nothing stale is ever reused. Files are written atomically after each video.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from uvc_bench.metrics.api import DimScore

CACHE_DIR = ".score_cache"


def dim_key(dim: str, backend: str, dtype: str) -> str:
    return f"{dim}|{backend}|{dtype}"


class ScoreCache:
    def __init__(self, folder: str | Path | None):
        self.folder = Path(folder) if folder else None
        self.hits = 0

    def _path(self, sha256: str) -> Path:
        assert self.folder is not None
        return self.folder / sha256[:2] / f"{sha256}.json"

    def load(self, sha256: str) -> dict[str, Any]:
        if self.folder is None:
            return {}
        p = self._path(sha256)
        try:
            data = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError):
            return {}  # absent, or cut by a crash: scored again
        return data if isinstance(data, dict) else {}

    def dims(self, sha256: str, wanted: dict[str, str], dtype: str) -> dict[str, DimScore] | None:
        """The cached scores of the wanted dimensions (dimension → backend); None unless every one is cached."""
        if self.folder is None:
            return None
        entry = self.load(sha256).get("dims", {})
        out = {}
        for dim, backend in wanted.items():
            rec = entry.get(dim_key(dim, backend, dtype))
            if not isinstance(rec, dict):
                return None
            out[dim] = DimScore(float(rec["value"]), float(rec["weight"]), str(rec["backend"]))
        self.hits += 1
        return out

    def fidelity(self, sha256: str, case_id: str) -> tuple[dict[str, float], dict[str, str]] | None:
        rec = self.load(sha256).get("fidelity", {}).get(case_id)
        if not isinstance(rec, dict):
            return None
        return dict(rec["values"]), dict(rec["skipped"])

    def store(self, sha256: str, scores: dict[str, DimScore], dtype: str, case_id: str,
              fidelity: tuple[dict[str, float], dict[str, str]] | None) -> None:
        if self.folder is None:
            return
        data = self.load(sha256)
        dims = data.setdefault("dims", {})
        for dim, s in scores.items():
            dims[dim_key(dim, s.backend, dtype)] = asdict(s)
        if fidelity is not None:
            data.setdefault("fidelity", {})[case_id] = {"values": fidelity[0], "skipped": fidelity[1]}
        p = self._path(sha256)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, allow_nan=True))
        os.replace(tmp, p)
