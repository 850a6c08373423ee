"""Finishing a build: list the committed inputs, concatenate their manifest fragments into manifest.parquet (input
order, then lineage order) and count them into stats.json. Reads markers and fragments only — never a shard byte —
so the driver's cost does not grow with the dataset's bytes (`BuildSummary.finish_bytes_read` counts it)."""
from __future__ import annotations

import json

from uvc_data.errors import UVCError
from uvc_data.sample import VideoInput
from uvc_data.writer.config import WriterConfig
from uvc_data.writer.layout import INPUTS, MANIFEST, OutDir
from uvc_data.writer.manifest import ManifestWriter, read_fragment
from uvc_data.writer.report import Tally


def finish(out: OutDir, inputs: list[VideoInput], cfg: WriterConfig) -> Tally:
    """manifest.parquet of the committed inputs among `inputs` (written atomically) → their Tally."""
    names = set(out.store.list(INPUTS))
    tally = Tally()
    manifest = ManifestWriter(out.store.local_target(MANIFEST), cfg.manifest_row_group)
    seen: dict[str, str] = {}
    for vi in sorted(inputs, key=lambda v: v.index):
        sid = vi.source_id
        if f"{sid}.done.json" in names:
            marker = json.loads(out.store.read_bytes(out.committed(sid)))
            try:
                rows = read_fragment(out.store.read_bytes(out.fragment(sid)))
            except (OSError, ValueError) as exc:
                raise UVCError(f"{out.store.where(out.fragment(sid))}: unreadable manifest fragment ({exc}); delete "
                               f"it and {out.store.where(out.committed(sid))}, then rerun to commit the input again"
                               ) from exc
            for row in rows:
                if row["key"] in seen:
                    raise UVCError(f"sample key {row['key']!r} occurs twice (inputs {seen[row['key']]} and {vi.path}):"
                                   " the steps must make keys unique, e.g. <source_id>_<clip>")
                seen[row["key"]] = vi.path
                manifest.add(row)
            tally.add_done(marker, rows)
        elif f"{sid}.failed.json" in names:
            tally.add_failed(json.loads(out.store.read_bytes(out.failed(sid))))
    manifest.close()
    out.store.publish(MANIFEST)
    return tally
