"""`uvc data recaption OUT`: caption a built dataset again from its shards — no source decoding, no annotators.

The caption case of `uvc data rerun` (pipelines.rerun, the same code path): every kept sample's clip is decoded from
its shard member, the configured captioner (and LLM judge, when `judge`) runs on it with the sample's provenance (so
sidecar lookups still work), and the side table `OUT/side/caption.parquet` is written (then the filters stage's
`OUT/side/filters.parquet`, which holds the final verdicts). Shards and manifest are not rewritten. Readers take the
new prompts with `iter_samples(shards, side=OUT)` — or only the prompts with `captions=OUT/side/caption.parquet`, as
earlier toolkits' `OUT/captions.parquet`, which is still read. Infrastructure failures (an endpoint down after its
retries) stop the command; rerun it: inputs already captioned are skipped. It always captions again (the caption
stage forced: `uvc data rerun --stage caption` skips inputs whose caption config and state did not change).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipelines.rerun import rerun
from uvc_data.side_tables import SIDE_DIR

SIDE_TABLE = f"{SIDE_DIR}/caption.parquet"


@dataclass
class RecaptionSummary:
    samples: int
    captioned: int
    rejected: int
    path: str
    caption_fingerprint: str


def recaption(out_dir: str | Path, cfg) -> RecaptionSummary:
    from pipelines.stage_fingerprints import stage_fingerprints

    s = rerun(out_dir, cfg, ["caption"], force=True)  # always: an edited sidecar, a new model behind the endpoint
    samples, rejected = s.samples["caption"], s.rejected["caption"]
    return RecaptionSummary(samples, samples - rejected, rejected, s.tables[0], stage_fingerprints(cfg)["caption"])
