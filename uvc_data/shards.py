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

Lean samples (schema "uvc-sample/2", `lean=True`, what the build writer writes by default) store less:
  gray                   not stored when it is to_gray3 of the clip (what the gray annotator makes): derived when
                         read from the decoded clip; conditions[gray] = "derived" (any other gray is stored as video)
  <key>.<mask>.bits      masks as 1 bit per pixel: np.packbits of (T, H, W) > 0 in C order, zlib level 9;
                         conditions[<mask>] = "bits" (the shape is the clip's: num_frames, height, width)
Extension and outpainting need nothing else (first frame / gray frames and the geometric mask are stored or derived
as above). Readers (sample_from_wds, iter_samples) read both schemas and return the same Sample; a kind they do not
know fails with a message naming the schema.
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
LEAN_SCHEMA = "uvc-sample/2"
READABLE_SCHEMAS = (SCHEMA, LEAN_SCHEMA)
MASK_KEYS = (OUTPAINT_MASK, INPAINT_MASK)
DERIVED = ("gray",)  # conditions a lean sample derives from its clip when read


def pack_mask_bits(mask_THW: np.ndarray) -> bytes:
    """(T, H, W) mask (non-zero = generate) → zlib(np.packbits) bytes: 1 bit per pixel, deterministic."""
    import zlib

    return zlib.compress(np.packbits(np.asarray(mask_THW) > 0).tobytes(), 9)


def unpack_mask_bits(data: bytes, shape: tuple[int, int, int]) -> np.ndarray:
    """pack_mask_bits' bytes and the (T, H, W) shape → uint8 mask in {0, 255}."""
    import zlib

    n = int(np.prod(shape))
    packed = np.frombuffer(zlib.decompress(data), np.uint8)
    if packed.size != (n + 7) // 8:
        raise BadInputError(f"mask bits hold {packed.size * 8} pixels, the clip's {shape} has {n}")
    bits = np.unpackbits(packed, count=n)
    return (bits.reshape(shape) * 255).astype(np.uint8)


def derive_condition(name: str, frames: np.ndarray) -> np.ndarray:
    """A condition that is a pure function of the clip, computed when read."""
    from uvc_data.annotators.gray import to_gray3

    if name == "gray":
        return to_gray3(frames)
    raise BadInputError(f"condition {name!r} cannot be derived from the clip (derivable: {list(DERIVED)})")


EncodedCondition = tuple[str, dict[str, bytes]]  # (kind as the metadata names it, {member extension: bytes})


def encode_condition(name: str, value: Any, frames: Any, fps: float, crf: int = 18, preset: str = "veryfast",
                     threads: int = 0, lean: bool = False) -> EncodedCondition:
    """One condition → (kind, {member extension: bytes}) exactly as a shard stores it. `frames` (the clip) is read
    only to check whether a lean condition is derivable from it."""
    if lean and name in DERIVED and np.array_equal(value, derive_condition(name, np.asarray(frames))):
        return "derived", {}  # exactly what the reader will compute from the clip: not stored
    if lean and name in MASK_KEYS:
        return "bits", {f"{name}.bits": pack_mask_bits(np.asarray(value))}
    if name in CONTROL_CONDITIONS:
        return "video", {f"{name}.mp4": encode_video(np.asarray(value), fps, crf=crf, preset=preset, threads=threads)}
    if name in MASK_KEYS:
        return "mask", {f"{name}.mp4": encode_video(np.asarray(value), fps, crf=0, preset="ultrafast",
                                                    threads=threads)}
    if name == REF_IMAGES:
        return f"images:{len(value)}", {f"ref{i}.png": encode_png(np.asarray(img)) for i, img in enumerate(value)}
    raise BadInputError(f"unknown condition {name!r}; known: "
                        f"{list(CONTROL_CONDITIONS) + list(MASK_KEYS) + [REF_IMAGES]}")


def decode_condition(name: str, kind: str, members: dict[str, Any], shape: tuple[int, int, int],
                     frames: Any = None) -> Any:
    """encode_condition's (kind, members) → the condition's value; `shape` is the clip's (T, H, W), `frames` the
    decoded clip (read only for a derived condition)."""
    if kind == "video":
        return decode_video(members[f"{name}.mp4"])[0]
    if kind == "mask":
        return decode_mask(members[f"{name}.mp4"])
    if kind == "bits":
        return unpack_mask_bits(members[f"{name}.bits"], shape)
    if kind == "derived":
        return derive_condition(name, np.asarray(frames))
    if kind.startswith("images:"):
        return [decode_png(members[f"ref{i}.png"]) for i in range(int(kind.split(":")[1]))]
    raise BadInputError(f"condition {name!r} has kind {kind!r}, unknown to this toolkit's readers (upgrade it)")


def sample_to_wds(sample: Sample, crf: int = 18, preset: str = "veryfast", threads: int = 0,
                  lean: bool = False, encoded: dict[str, EncodedCondition] | None = None,
                  clip_mp4: bytes | None = None) -> dict[str, bytes | str]:
    """Sample → {member extension: bytes}, ready for a tar writer (plus "__key__").

    `threads` is x264's thread count (0 = auto). x264's output depends on it: pass a fixed count for bytes that do
    not depend on the machine (the build writer does). `lean`: schema uvc-sample/2 (gray derived when read, masks as
    1-bit packed members); False writes uvc-sample/1. `encoded` (condition → encode_condition's result) and
    `clip_mp4` are members already encoded with these same settings (by the stage that made them): used as they are.
    """
    if sample.frames is None:
        raise BadInputError(f"sample {sample.key}: no frames to write")
    if "." in sample.key:
        raise BadInputError(f"sample key {sample.key!r} contains a dot: WebDataset would split it")
    out: dict[str, bytes | str] = {"__key__": sample.key}
    out["mp4"] = clip_mp4 if clip_mp4 is not None else encode_video(np.asarray(sample.frames), sample.fps, crf=crf,
                                                                      preset=preset, threads=threads)
    out["txt"] = sample.prompt.encode("utf-8")
    kinds: dict[str, str] = {}
    done = encoded or {}
    for name in sorted(sample.conditions):
        if name in done:
            kind, members = done[name]
        else:
            try:
                kind, members = encode_condition(name, sample.conditions[name], sample.frames, sample.fps, crf,
                                                 preset, threads, lean)
            except BadInputError as exc:
                raise BadInputError(f"sample {sample.key}: {exc}") from exc
        out.update(members)
        kinds[name] = kind
    h, w = sample.size
    meta = {
        "schema": LEAN_SCHEMA if lean else SCHEMA,
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


def sample_from_wds(item: dict[str, Any], decode: bool = True, conditions: bool = True) -> Sample:
    """A WebDataset sample dict (raw bytes per extension, as webdataset yields without decoders) → Sample.
    decode=False: metadata only; conditions=False: the clip's frames but no condition decoded."""
    if "json" not in item:
        raise BadInputError(f"shard sample {item.get('__key__')!r} has no json member")
    meta = json.loads(item["json"])
    if meta.get("schema") not in READABLE_SCHEMAS:
        raise BadInputError(f"shard sample {meta.get('key')!r}: schema {meta.get('schema')!r}; this toolkit reads "
                            f"{list(READABLE_SCHEMAS)} (a newer toolkit wrote it: upgrade to read it)")
    frames = decode_video(item["mp4"])[0] if decode else None
    decode_conditions = decode and conditions
    conditions: dict[str, Any] = {}
    if decode_conditions:
        shape = (int(meta["num_frames"]), int(meta["height"]), int(meta["width"]))
        for name, kind in meta["conditions"].items():
            try:
                conditions[name] = decode_condition(name, kind, item, shape, frames)
            except BadInputError as exc:
                raise BadInputError(f"shard sample {meta['key']!r} (schema {meta['schema']!r}): {exc}") from exc
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


def _url_shards(url: str) -> list[str]:
    """Shards under a URL: a prefix (its *.tar), a glob, or one object."""
    from uvc_data.remote import filesystem

    fs, inner = filesystem(url, field="shards")
    proto = url.split("://", 1)[0]
    if any(c in inner for c in "*?["):
        found = fs.glob(inner)
    elif fs.isdir(inner):
        found = [p for p in fs.ls(inner, detail=False) if p.endswith(".tar")]
    else:
        found = [inner] if fs.isfile(inner) else []
    return sorted(f"{proto}://{p.lstrip('/')}" for p in found)


def shard_paths(paths: str | Path | Iterable[str | Path]) -> list[str]:
    """Shard files from a folder (its *.tar, sorted), a glob, a file, or a list of those; each may be a URL
    (s3://bucket/out/shards: read through fsspec)."""
    from uvc_data.remote import is_url

    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    out: list[str] = []
    for p in items:
        p = str(p)
        if is_url(p):
            found = _url_shards(p)
        elif os.path.isdir(p):
            found = sorted(glob.glob(os.path.join(p, "*.tar")))
        elif any(c in p for c in "*?["):
            found = sorted(glob.glob(p))
        else:
            found = [p] if os.path.isfile(p) else []
        if not found:
            raise BadInputError(f"no shards found at {p!r}: give a folder with .tar shards, a glob or a shard file")
        out.extend(found)
    return out


def read_captions(path: str | Path) -> dict[str, str]:
    """A captions side table (`uvc data recaption`: OUT/side/caption.parquet, or an earlier toolkit's
    OUT/captions.parquet; columns key, prompt) → {key: prompt} of the samples it captioned (rows whose caption was
    rejected carry no prompt and are left out)."""
    import pyarrow.parquet as pq

    table = pq.read_table(str(path), columns=["key", "prompt"]).to_pylist()
    return {r["key"]: r["prompt"] for r in table if r["prompt"] is not None}


def iter_samples(paths: str | Path | Iterable[str | Path], decode: bool = True,
                 captions: str | Path | dict[str, str] | None = None,
                 conditions: bool = True, side: Any = None) -> Iterator[Sample]:
    """Read Samples back from shards with the plain `webdataset` package (no pickles, raw bytes only); shards at
    URLs (s3://) through fsspec and uvc_data.shard_index.
    `captions`: a side table (path of a captions table, or {key: prompt}) whose prompts replace the shards' own.
    `side`: side tables of `uvc data rerun` (an out dir, its side/ folder, .parquet files, a list of those, or a
    uvc_data.side_tables.SideTables), applied in stage order; clips they reject are skipped (uvc_data.side_tables).
    A sample whose own json rejects it (an annotator rerun leaves such samples in their shard) is skipped too."""
    import webdataset as wds

    from uvc_data.remote import is_url
    from uvc_data.shard_index import iter_shard
    from uvc_data.side_tables import SideTables, is_rejected

    table = read_captions(captions) if isinstance(captions, (str, Path)) else (captions or {})
    tables = side if isinstance(side, SideTables) or side is None else SideTables.load(side)
    files = shard_paths(paths)
    if any(is_url(f) for f in files):  # webdataset opens URLs through shell pipes; fsspec reads them here
        items: Iterable[dict[str, Any]] = (item for f in files for item in iter_shard(f))
    else:
        items = wds.WebDataset(files, shardshuffle=False, empty_check=False)
    for item in items:
        sample = sample_from_wds(item, decode=decode, conditions=conditions)
        if sample.key in table:
            sample.prompt = table[sample.key]
        if tables is not None and tables.apply_sample(sample) is None:
            continue
        if is_rejected(sample.tasks, sample.rejected):
            continue
        yield sample


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
