"""More training clips for `uvc demo` from the same real footage, never overlapping the held-out bench clips.

Each input video is rewritten as variants — time reversed and/or cropped (`Variant`) — that `uvc data build` then cuts
into overlapping windows, so the builder makes every condition (gray, flow, masks, ...) from the variant itself: a
reversed clip's flow is the reversed motion, an extension case of a reversed clip gives its own first frame.
Held-out clips stay unseen: a training clip is excluded when the span of ORIGINAL footage it shows (a reversed
variant's span [a, b] is [D − b, D − a] of the original of duration D) overlaps a held-out clip's span of the same
source by more than `margin_s`.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from uvc_data.errors import BadInputError
from uvc_data.video.codec import decode_video, encode_video

VARIANTS_FILE = "variants.json"


@dataclass(frozen=True)
class Variant:
    """One rewrite of a source video: `crop` = (top, left, height, width) as fractions of the frame, or None."""

    name: str
    reverse: bool = False
    crop: tuple[float, float, float, float] | None = None


def default_variants(crops: int, reverse: bool) -> list[Variant]:
    """The original, `crops` crops of 80% of each side (alternating corners), each also reversed when asked."""
    boxes: list[tuple[str, tuple[float, float, float, float] | None]] = [("orig", None)]
    corners = [(0.0, 0.0), (0.2, 0.2), (0.0, 0.2), (0.2, 0.0), (0.1, 0.1)]
    for i in range(crops):
        top, left = corners[i % len(corners)]
        boxes.append((f"crop{i}", (top, left, 0.8, 0.8)))
    out = []
    for name, box in boxes:
        out.append(Variant(name, False, box))
        if reverse:
            out.append(Variant(name + "-rev", True, box))
    return out


def _even(n: float) -> int:
    return max(2, int(round(n / 2)) * 2)


def apply_variant(frames: np.ndarray, v: Variant, short_side: int) -> np.ndarray:
    """Crop, resize (short side → `short_side`, even sizes, area filter) and reverse as `v` says."""
    import cv2

    t, h, w, _ = frames.shape
    if v.crop is not None:
        top, left, ch, cw = v.crop
        y0, x0 = int(round(top * h)), int(round(left * w))
        frames = frames[:, y0: y0 + int(round(ch * h)), x0: x0 + int(round(cw * w))]
        h, w = frames.shape[1:3]
    scale = short_side / min(h, w)
    size = (_even(w * scale), _even(h * scale))
    out = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])
    return out[::-1].copy() if v.reverse else out


def write_variants(inputs: Path, out: Path, variants: list[Variant], short_side: int = 144) -> dict[str, dict]:
    """Every `<stem>.mp4` (+ its `<stem>.txt` caption) of `inputs` → `<stem>.<variant>.mp4` in `out`; returns (and
    writes to variants.json) file stem → {"source": stem, "reverse", "duration_s"}."""
    out.mkdir(parents=True, exist_ok=True)
    table: dict[str, dict] = {}
    for src in sorted(inputs.glob("*.mp4")):
        frames, fps = decode_video(src)
        caption = src.with_suffix(".txt")
        for v in variants:
            stem = f"{src.stem}.{v.name}"
            (out / f"{stem}.mp4").write_bytes(encode_video(apply_variant(frames, v, short_side), fps, crf=14))
            if caption.is_file():
                (out / f"{stem}.txt").write_text(caption.read_text())
            table[stem] = {"source": src.stem, "duration_s": len(frames) / fps, **asdict(v)}
    (out / VARIANTS_FILE).write_text(json.dumps(table, indent=1))
    return table


def original_span(start_s: float, end_s: float, reverse: bool, duration_s: float) -> tuple[float, float]:
    """The span of original footage a clip of a variant shows."""
    return (duration_s - end_s, duration_s - start_s) if reverse else (start_s, end_s)


def _rows(manifest: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(manifest, columns=["key", "status", "source", "start_s", "end_s"]).to_pylist()


def overlapping_keys(train_manifest: Path, variants: dict[str, dict], held_manifest: Path, held_keys: set[str],
                     margin_s: float) -> set[str]:
    """Keys of training clips whose original span overlaps a held-out clip's by more than `margin_s` seconds."""
    held: dict[str, list[tuple[float, float]]] = {}
    for r in _rows(held_manifest):
        if r["key"] in held_keys:
            held.setdefault(Path(r["source"]).stem, []).append((r["start_s"], r["end_s"]))
    out = set()
    for r in _rows(train_manifest):
        info = variants.get(Path(r["source"]).stem)
        if info is None:
            raise BadInputError(f"{train_manifest}: clip {r['key']} comes from {r['source']}, which is not in "
                                f"{VARIANTS_FILE}; rebuild the training data (`uvc demo --fresh`)")
        a, b = original_span(r["start_s"], r["end_s"], info["reverse"], info["duration_s"])
        if any(min(b, hb) - max(a, ha) > margin_s for ha, hb in held.get(info["source"], [])):
            out.add(r["key"])
    return out
