"""`uvc data build --dry-run`: what a build would do, from the inputs' headers only (nothing decoded or written).

Probes every input (PyAV headers: duration, frame rate, size) and reports hours of video, bytes, how many clips the
clip windows allow at most (shot cuts, trims and filters only lower it), and the model work those clips imply: frames
through each annotator a configured task needs, and caption calls.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from uvc_data.annotators import ANNOTATORS
from uvc_data.errors import BadInputError
from uvc_data.sample import VideoInput
from uvc_data.tasks import get_task
from uvc_data.video.probe import probe


@dataclass
class DryRunReport:
    inputs: int
    readable: int
    unreadable: dict[str, str] = field(default_factory=dict)  # path → why (the build would record it failed)
    hours: float = 0.0
    bytes: int = 0
    max_clips: int = 0  # upper bound: one shot per input, back-to-back windows
    clip_frames: int = 0  # frames per clip (working size)
    annotator_frames: dict[str, int] = field(default_factory=dict)  # annotator → frames it would process at most
    caption_calls: int = 0
    sources_by_resolution: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def clips_in(duration_s: float, cfg) -> int:
    """Most clip windows `duration_s` of one shot can hold with the clip config (no cuts, file ends untrimmed)."""
    c = cfg.split.clips
    usable = duration_s - (2 * c.trim_s if c.trim_file_ends else 0.0)
    clip_s = c.num_frames / c.fps
    if usable < clip_s:
        return 0
    stride_s = (c.stride_frames or c.num_frames) / c.fps
    n = 1 + int(math.floor((usable - clip_s) / stride_s + 1e-9))
    return min(n, c.max_clips_per_shot) if c.max_clips_per_shot else n


def dry_run(videos: list[VideoInput], cfg) -> DryRunReport:
    report = DryRunReport(inputs=len(videos), readable=0)
    sizes: Counter[str] = Counter()
    for vi in videos:
        try:
            info = probe(vi.path, cfg.split.decode.limits)
        except BadInputError as exc:
            report.unreadable[vi.path] = str(exc)
            continue
        report.readable += 1
        report.bytes += info.file_bytes
        seconds = info.duration_s or ((info.num_frames or 0) / info.fps if info.fps else 0.0)
        report.hours += seconds / 3600.0
        report.max_clips += clips_in(seconds, cfg)
        sizes[f"{info.width}x{info.height}"] += 1
    report.hours = round(report.hours, 4)
    report.clip_frames = cfg.split.clips.num_frames
    needed = {need for t in cfg.tasks for need in get_task(t).needs}
    for name in cfg.annotators:
        condition = getattr(ANNOTATORS.get(name).cls, "condition", "")
        if condition in needed:
            report.annotator_frames[name] = report.max_clips * report.clip_frames
    report.caption_calls = report.max_clips
    report.sources_by_resolution = dict(sizes.most_common())
    return report


def format_dry_run(r: DryRunReport) -> str:
    lines = [
        f"dry run: {r.inputs} inputs ({r.readable} readable, {len(r.unreadable)} unreadable)",
        f"  video     {r.hours:.3f} h ({r.hours * 60:.1f} min), {r.bytes / 1e9:.3f} GB; sources {r.sources_by_resolution}",
        f"  clips     at most {r.max_clips} of {r.clip_frames} frames (shot cuts and filters only lower it)",
        f"  captions  at most {r.caption_calls} calls",
        "  models    " + (", ".join(f"{k}: ≤ {v} frames" for k, v in r.annotator_frames.items()) or "-"),
    ]
    for path, why in list(r.unreadable.items())[:5]:
        lines.append(f"  unreadable {why}")
    return "\n".join(lines)
