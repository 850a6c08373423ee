"""`uvc data recaption OUT`: caption a built dataset again from its shards — no source decoding, no annotators.

Reads every kept sample's clip from `OUT/shards` (the clip member only; conditions are not decoded), runs the
configured captioner on it with the sample's provenance, and writes the side
table `OUT/captions.parquet` (key, prompt, caption_words, reject_reason, caption_fingerprint), atomically. The shards
and manifest are not rewritten; readers take the new prompts with `iter_samples(shards, captions=OUT/captions.parquet)`.
A clip the new captioner rejects keeps its row with the reason and no prompt. Infrastructure failures (an endpoint
down after its retries) stop the command; rerun it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from uvc_data.captioners import CaptionStep
from uvc_data.configurable import to_dict
from uvc_data.errors import ConfigError
from uvc_data.sample import Sample
from uvc_data.shards import iter_samples
from uvc_data.writer import atomic

SIDE_TABLE = "captions.parquet"
SCHEMA = "uvc-captions/1"


@dataclass
class RecaptionSummary:
    samples: int
    captioned: int
    rejected: int
    path: str
    caption_fingerprint: str


def caption_fingerprint(caption_cfg) -> str:
    return hashlib.sha256(json.dumps(to_dict(caption_cfg), sort_keys=True).encode()).hexdigest()[:16]


def recaption(out_dir: str | Path, cfg) -> RecaptionSummary:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_dir)
    shards = out / "shards"
    if not any(shards.glob("*.tar")):
        raise ConfigError("out", f"{out} has no shards/*.tar: give the --out folder of a finished `uvc data build`")
    step = CaptionStep(cfg.caption)
    fp = caption_fingerprint(cfg.caption)
    rows = []

    def judged() -> Iterator[Sample]:
        for sample in iter_samples(shards, conditions=False):
            sample.rejected = {}
            if not sample.tasks:
                sample.tasks = ["t2v"]  # a kept sample always gets a caption judged
            yield sample

    for sample in step.run(judged()):  # caption.batch_size clips per captioner call
        reason = sample.rejected.get("clip")
        rows.append({"key": sample.key, "prompt": None if reason else sample.prompt,
                     "caption_words": int(sample.signals.get("caption_words", 0)), "reject_reason": reason,
                     "caption_fingerprint": fp})
    table = pa.Table.from_pylist(rows, schema=pa.schema([
        ("key", pa.string()), ("prompt", pa.string()), ("caption_words", pa.int32()), ("reject_reason", pa.string()),
        ("caption_fingerprint", pa.string())], metadata={"schema": SCHEMA}))
    path = out / SIDE_TABLE
    buf = pa.BufferOutputStream()
    pq.write_table(table, buf)
    atomic.write_bytes(path, buf.getvalue().to_pybytes())
    rejected = sum(1 for r in rows if r["reject_reason"])
    return RecaptionSummary(len(rows), len(rows) - rejected, rejected, str(path), fp)
