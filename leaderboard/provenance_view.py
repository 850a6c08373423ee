"""The model page's provenance section: where a run's numbers come from, as name → text rows (results.provenance,
the case reading, the scored videos' SHA-256). Every value is escaped by the page renderer like any other text."""
from __future__ import annotations

import hashlib
from typing import Any


def videos_digest(cases: list[Any]) -> str:
    """One SHA-256 over the sorted (case id, video SHA-256) pairs of the scored videos: two runs with the same value
    scored the same files."""
    pairs = sorted((c.case_id, c.video.sha256) for c in cases if c.video is not None)
    h = hashlib.sha256()
    for cid, digest in pairs:
        h.update(f"{cid} {digest}\n".encode())
    return f"{h.hexdigest()} ({len(pairs)} videos)" if pairs else "—"


def provenance_rows(res: Any, source: str) -> dict[str, str]:
    p = res.provenance
    rows = {"results file": source, "schema version": res.schema_version}
    if res.upgraded_from:
        rows["read from"] = (f"{res.upgraded_from} (older file: cases were read as their first frames resized, "
                             "not as the official inference reads them; not comparable with schema 2 runs)")
    rows.update({"toolkit version": p.toolkit_version or res.toolkit_version, "git commit": p.git_commit,
                 "command": " ".join(p.command) or "—", "case reading": res.generation.case_reading,
                 "scoring device": p.device, "scoring dtype": p.dtype, "scoring batch size": str(p.batch_size)})
    rows.update({f"version: {k}": v for k, v in sorted(p.versions.items())})
    rows.update({f"weights sha256: {k}": v for k, v in sorted(p.weights.items())})
    rows["scored videos sha256"] = videos_digest(res.cases)
    return rows
