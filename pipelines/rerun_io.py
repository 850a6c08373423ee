"""Reading and rewriting one input's shard group for `uvc data rerun` (pipelines.rerun).

A shard sample opens as a Sample with its clip decoded from the shard's H.264 member (what a trainer reads, as
`writer.transport.clip=shard` gives later stages in a build) and its conditions as the shard stores them: they decode
when a step reads them, and a condition nobody replaces is written back as the very bytes it was read as.
"""
from __future__ import annotations

import json
from typing import Any, Iterator

from uvc_data.sample import REF_IMAGES, Sample
from uvc_data.shard_index import iter_shard
from uvc_data.shards import EncodedCondition, sample_from_wds, sample_to_wds
from uvc_data.writer.layout import SHARDS, OutDir
from uvc_data.writer.records import status_of, tar_bytes
from uvc_data.writer.transport import Conditions


def condition_members(name: str, kind: str, item: dict[str, Any]) -> EncodedCondition:
    """The members of condition `name` (stored as `kind`) in a shard item, as encode_condition gave them."""
    if kind in ("video", "mask"):
        exts = [f"{name}.mp4"]
    elif kind == "bits":
        exts = [f"{name}.bits"]
    elif kind == "derived":
        exts = []
    elif kind.startswith("images:") and name == REF_IMAGES:
        exts = [f"ref{i}.png" for i in range(int(kind.split(":")[1]))]
    else:
        from uvc_data.errors import BadInputError

        raise BadInputError(f"shard sample {item.get('__key__')!r}: condition {name!r} of kind {kind!r} is unknown "
                            "to this toolkit (upgrade it)")
    return kind, {e: item[e] for e in exts}


def open_item(item: dict[str, Any]) -> Sample:
    """A shard item → Sample: the clip decoded, conditions decoding when read (transport.Conditions)."""
    meta = json.loads(item["json"])
    sample = sample_from_wds(item, decode=True, conditions=False)
    encoded = {n: condition_members(n, k, item) for n, k in meta["conditions"].items()}
    sample.conditions = Conditions(encoded, sample)
    return sample


def input_items(out: OutDir, marker: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(shard name, item) of every sample of a committed input, in shard and file order."""
    for name in marker["shards"]:
        for item in iter_shard(out.store.where(f"{SHARDS}/{name}")):
            yield name, item


def shard_item(sample: Sample, original: dict[str, Any], writer) -> dict[str, Any]:
    """The sample's shard members: its clip and every condition not replaced are the original bytes."""
    conds = sample.conditions
    encoded = {n: e for n in conds if (e := conds.encoded(n)) is not None} if isinstance(conds, Conditions) else {}
    return sample_to_wds(sample, crf=writer.crf, preset=writer.preset, threads=writer.encode_threads,
                         lean=writer.lean, encoded=encoded, clip_mp4=original["mp4"])


def updated_row(row: dict[str, Any], sample: Sample, item: dict[str, Any]) -> dict[str, Any]:
    """A manifest row after a rerun rewrote the sample (it keeps its shard and position)."""
    status, reason = status_of(sample)
    sizes = [len(v) for k, v in item.items() if k != "__key__"]
    meta = json.loads(item["json"])
    return row | {"status": status, "reject_reason": reason, "tasks": list(sample.tasks),
                  "rejected": {k: str(v) for k, v in sorted(sample.rejected.items())},
                  "signals": {k: float(v) for k, v in sorted(sample.signals.items())},
                  "conditions": sorted(meta["conditions"]), "bytes": sum(sizes), "tar_bytes": tar_bytes(sizes)}
