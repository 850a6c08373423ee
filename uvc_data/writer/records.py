"""A sample's manifest record (metadata only) and whether it goes into the shards."""
from __future__ import annotations

from typing import Any

from uvc_data.sample import Sample

OK, REJECTED = "ok", "rejected"
NO_TASK_LEFT = "no task left"


def status_of(sample: Sample) -> tuple[str, str | None]:
    """(status, clip-level reason). Rejected: a clip-level rejection, or every task it had was rejected.

    A sample with no tasks and no rejections (a pipeline that assigns no tasks) is kept.
    """
    if "clip" in sample.rejected:
        return REJECTED, sample.rejected["clip"]
    if not sample.tasks and sample.rejected:
        return REJECTED, NO_TASK_LEFT
    return OK, None


def tar_bytes(member_sizes: list[int]) -> int:
    """Bytes these members take in a tar: a 512-byte header each, data padded to 512."""
    return sum(512 + -(-n // 512) * 512 for n in member_sizes)


def sample_record(sample: Sample) -> dict[str, Any]:
    status, reason = status_of(sample)
    p = sample.provenance
    height, width = sample.size if sample.frames is not None else (0, 0)
    return {
        "key": sample.key,
        "status": status,
        "reject_reason": reason,
        "prompt": sample.prompt,
        "tasks": list(sample.tasks),
        "rejected": {k: str(v) for k, v in sorted(sample.rejected.items())},
        "signals": {k: float(v) for k, v in sorted(sample.signals.items())},
        "conditions": sorted(sample.conditions),
        "split": sample.split,
        "fps": float(sample.fps),
        "num_frames": sample.num_frames,
        "height": height,
        "width": width,
        "source": p.source,
        "source_id": p.source_id,
        "input_index": p.input_index,
        "shot": p.shot,
        "clip": p.clip,
        "start_s": float(p.start_s),
        "end_s": float(p.end_s),
        "src_fps": float(p.src_fps),
        "src_width": p.src_width,
        "src_height": p.src_height,
        "rotation": p.rotation,
        "bytes": 0,  # filled when the sample is serialised: sum of its member sizes
        "tar_bytes": 0,  # what it adds to a shard
        "part": None,  # its staged file, relative to the input's staging folder
    }
