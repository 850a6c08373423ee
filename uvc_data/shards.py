"""The shard format: one WebDataset sample = one clip with the conditions of all its tasks.

Members of a sample `<key>` (keys contain no dots):
  <key>.mp4              the clip, H.264, working size, target fps
  <key>.txt              the prompt (caption), UTF-8
  <key>.json             metadata (schema "uvc-sample/1"): prompt, fps, num_frames, height, width, tasks, rejected,
                         signals, provenance, split, conditions {name: "video" | "mask" | "images:<n>"}
  <key>.<control>.mp4    control videos: depth, pose, flow, scribble, gray
  <key>.outpaint_mask.mp4, <key>.inpaint_mask.mp4   mask videos (white = generate), encoded losslessly
  <key>.ref<i>.png       reference images on a white canvas at the working size
VCUs for any task are built from these by uvc_data.vcu.build_vcu; compound tasks need no extra members.
"""
from __future__ import annotations

import glob
import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from uvc_data.errors import BadInputError
from uvc_data.sample import INPAINT_MASK, OUTPAINT_MASK, REF_IMAGES, Provenance, Sample
from uvc_data.tasks import CONTROL_CONDITIONS
from uvc_data.video.codec import decode_mask, decode_png, decode_video, encode_png, encode_video

SCHEMA = "uvc-sample/1"
MASK_KEYS = (OUTPAINT_MASK, INPAINT_MASK)


def sample_to_wds(sample: Sample, crf: int = 18, preset: str = "veryfast", threads: int = 0) -> dict[str, bytes | str]:
    """Sample → {member extension: bytes}, ready for a tar writer (plus "__key__").

    `threads` is x264's thread count (0 = auto). x264's output depends on it: pass a fixed count for bytes that do
    not depend on the machine (the build writer does).
    """
    if sample.frames is None:
        raise BadInputError(f"sample {sample.key}: no frames to write")
    if "." in sample.key:
        raise BadInputError(f"sample key {sample.key!r} contains a dot: WebDataset would split it")
    out: dict[str, bytes | str] = {"__key__": sample.key}
    out["mp4"] = encode_video(sample.frames, sample.fps, crf=crf, preset=preset, threads=threads)
    out["txt"] = sample.prompt.encode("utf-8")
    kinds: dict[str, str] = {}
    for name, value in sorted(sample.conditions.items()):
        if name in CONTROL_CONDITIONS:
            out[f"{name}.mp4"] = encode_video(np.asarray(value), sample.fps, crf=crf, preset=preset, threads=threads)
            kinds[name] = "video"
        elif name in MASK_KEYS:
            out[f"{name}.mp4"] = encode_video(np.asarray(value), sample.fps, crf=0, preset="ultrafast",
                                              threads=threads)
            kinds[name] = "mask"
        elif name == REF_IMAGES:
            for i, img in enumerate(value):
                out[f"ref{i}.png"] = encode_png(np.asarray(img))
            kinds[name] = f"images:{len(value)}"
        else:
            raise BadInputError(f"sample {sample.key}: unknown condition {name!r}; known: "
                                f"{list(CONTROL_CONDITIONS) + list(MASK_KEYS) + [REF_IMAGES]}")
    h, w = sample.size
    meta = {
        "schema": SCHEMA,
        "key": sample.key,
        "prompt": sample.prompt,
        "fps": sample.fps,
        "num_frames": sample.num_frames,
        "height": h,
        "width": w,
        "tasks": list(sample.tasks),
        "rejected": dict(sample.rejected),
        "signals": {k: float(v) for k, v in sample.signals.items()},
        "provenance": sample.provenance.to_dict(),
        "split": sample.split,
        "conditions": kinds,
    }
    out["json"] = json.dumps(meta, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return out


def sample_from_wds(item: dict[str, Any], decode: bool = True) -> Sample:
    """A WebDataset sample dict (raw bytes per extension, as webdataset yields without decoders) → Sample."""
    if "json" not in item:
        raise BadInputError(f"shard sample {item.get('__key__')!r} has no json member")
    meta = json.loads(item["json"])
    if meta.get("schema") != SCHEMA:
        raise BadInputError(f"shard sample {meta.get('key')!r}: schema {meta.get('schema')!r}, expected {SCHEMA!r}")
    frames = decode_video(item["mp4"])[0] if decode else None
    conditions: dict[str, Any] = {}
    if decode:
        for name, kind in meta["conditions"].items():
            if kind == "video":
                conditions[name] = decode_video(item[f"{name}.mp4"])[0]
            elif kind == "mask":
                conditions[name] = decode_mask(item[f"{name}.mp4"])
            elif kind.startswith("images:"):
                conditions[name] = [decode_png(item[f"ref{i}.png"]) for i in range(int(kind.split(":")[1]))]
    return Sample(
        key=meta["key"],
        frames=frames,
        fps=float(meta["fps"]),
        provenance=Provenance(**meta["provenance"]),
        prompt=meta["prompt"],
        conditions=conditions,
        tasks=list(meta["tasks"]),
        rejected=dict(meta["rejected"]),
        signals=dict(meta["signals"]),
        split=meta.get("split", "train"),
    )


def shard_paths(paths: str | Path | Iterable[str | Path]) -> list[str]:
    """Shard files from a folder (its *.tar, sorted), a glob, a file, or a list of those."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    out: list[str] = []
    for p in items:
        p = str(p)
        if os.path.isdir(p):
            found = sorted(glob.glob(os.path.join(p, "*.tar")))
        elif any(c in p for c in "*?["):
            found = sorted(glob.glob(p))
        else:
            found = [p] if os.path.isfile(p) else []
        if not found:
            raise BadInputError(f"no shards found at {p!r}: give a folder with .tar shards, a glob or a shard file")
        out.extend(found)
    return out


def iter_samples(paths: str | Path | Iterable[str | Path], decode: bool = True) -> Iterator[Sample]:
    """Read Samples back from shards with the plain `webdataset` package (no pickles, raw bytes only)."""
    import webdataset as wds

    dataset = wds.WebDataset(shard_paths(paths), shardshuffle=False, empty_check=False)
    for item in dataset:
        yield sample_from_wds(item, decode=decode)


def write_tar(path: str | Path, samples: Iterable[dict[str, bytes | str]]) -> int:
    """Write a deterministic tar shard (sorted members per sample, mtime 0, uid/gid 0) atomically: tmp + rename.

    Returns the number of samples written. A killed writer leaves only `<path>.tmp`, which no reader globs.
    """
    import tarfile

    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with open(tmp, "wb") as fh:
        with tarfile.open(fileobj=fh, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for item in samples:
                key = str(item["__key__"])
                for ext in sorted(k for k in item if k != "__key__"):
                    data = item[ext]
                    data = data.encode("utf-8") if isinstance(data, str) else data
                    info = tarfile.TarInfo(f"{key}.{ext}")
                    info.size, info.mtime, info.mode = len(data), 0, 0o644
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    import io as _io

                    tar.addfile(info, _io.BytesIO(data))
                n += 1
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return n
