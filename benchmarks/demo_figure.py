"""The demo's picture: per held-out case, conditions | each model's output | ground truth, a few frames each.

    .venv/bin/python benchmarks/demo_figure.py --work runs/demo --out docs/img/demo_cases.png

Reads the suite (cases/<task>/<key>/src_video.mp4, src_mask.mp4, gt.mp4) and the bench outputs
(bench/<run>/<task>/<key>.mp4) of `uvc demo`; everything is shown at the working size the models generated, scaled up
with nearest-neighbour so pixels stay pixels. In the condition column the region to generate (mask 1) is tinted.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from uvc_data.errors import BadInputError
from uvc_data.video.codec import decode_video

LABEL_W = 150


def _frames(path: Path, size: tuple[int, int], t: int, picks: list[int]) -> np.ndarray:
    """Frames `picks` of the video resampled to `t` evenly spaced frames, resized to `size` (H, W): (n, H, W, 3)."""
    frames, _ = decode_video(path)
    if frames.ndim == 3:
        frames = np.repeat(frames[..., None], 3, axis=-1)
    idx = np.linspace(0, len(frames) - 1, t).round().astype(int)
    chosen = [frames[idx[p]] for p in picks]
    return np.stack([np.asarray(Image.fromarray(f).resize(size[::-1], Image.BILINEAR)) for f in chosen])


def _strip(frames: np.ndarray, scale: int) -> Image.Image:
    row = np.concatenate(list(frames), axis=1)
    return Image.fromarray(row).resize((row.shape[1] * scale, row.shape[0] * scale), Image.NEAREST)


def build_figure(work: Path, tasks: list[str], runs: list[str], n_show: int, scale: int) -> Image.Image:
    cfg = json.loads((work / "demo_config.json").read_text())
    size, t = (cfg["height"], cfg["width"]), cfg["frames"]
    picks = sorted(set(np.linspace(0, t - 1, n_show).round().astype(int).tolist()))
    rows: list[tuple[str, Image.Image]] = []
    for task in tasks:
        cases = sorted((work / "suite" / "cases" / task.replace("+", "_")).glob("*"))
        if not cases:
            raise BadInputError(f"no {task} case in {work / 'suite'}: run `uvc demo` with that bench task")
        case = cases[0]
        cond = _frames(case / "src_video.mp4", size, t, picks)
        if (case / "src_mask.mp4").is_file():
            m = _frames(case / "src_mask.mp4", size, t, picks)[..., :1] > 127
            cond = np.where(m, (0.6 * cond + 0.4 * np.array([255, 0, 255])).astype(np.uint8), cond)
        rows.append((f"{task}: condition", _strip(cond, scale)))
        for run in runs:
            rows.append((run, _strip(_frames(work / "bench" / run / task / f"{case.name}.mp4", size, t, picks), scale)))
        rows.append(("ground truth", _strip(_frames(case / "gt.mp4", size, t, picks), scale)))
    w = LABEL_W + max(im.width for _, im in rows)
    h = sum(im.height + 4 for _, im in rows) + 8 * len(tasks)
    canvas = Image.new("RGB", (w, h), "white")
    draw, y = ImageDraw.Draw(canvas), 0
    for i, (label, im) in enumerate(rows):
        if label.endswith(": condition") and i:
            y += 8
        canvas.paste(im, (LABEL_W, y))
        draw.text((4, y + im.height // 2 - 6), label, fill="black")
        y += im.height + 4
    return canvas


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default="runs/demo")
    ap.add_argument("--out", default="docs/img/demo_cases.png")
    ap.add_argument("--tasks", default="outpainting,extension,gray,firstframe+gray")
    ap.add_argument("--runs", default="", help="bench runs in order (default: those of demo_summary / bench/)")
    ap.add_argument("--show", type=int, default=5, help="frames shown per video")
    ap.add_argument("--scale", type=int, default=3)
    a = ap.parse_args()
    work = Path(a.work)
    runs = a.runs.split(",") if a.runs else sorted(p.name for p in (work / "bench").iterdir() if p.is_dir())
    img = build_figure(work, a.tasks.split(","), runs, a.show, a.scale)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    img.save(a.out)
    print(f"wrote {a.out} ({img.width}×{img.height})")


if __name__ == "__main__":
    main()
