"""The weights folder layout (MetricsConfig.weights_dir) and how a missing entry is reported.

    <weights_dir>/
      dino_vitb16/        transformers ViTModel dir (config.json + weights) of facebook/dino-vitb16
      clip_vitb32/        transformers CLIP dir of openai/clip-vit-base-patch32 (vision tower + projection used)
      clip_vitl14/        transformers CLIP dir of openai/clip-vit-large-patch14
      laion_aesthetic/sa_0_4_vit_l_14_linear.pth   LAION aesthetic predictor v1 (Linear 768→1 state dict)
      musiq/musiq_spaq_ckpt-358bb6af.pth           pyiqa MUSIQ, SPAQ checkpoint
      amt/amt-s.pth                                AMT-S checkpoint ({"state_dict": ...})
      raft/raft-things.pth                         RAFT raft-things checkpoint (the file VBench and VACE's annotators load)
`uvc_bench.weights.fetch` downloads them into this layout with checksums (docs/metrics.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from uvc_data.errors import MissingWeightsError


@dataclass(frozen=True)
class WeightEntry:
    key: str
    relpath: str  # inside weights_dir
    what: str
    is_dir: bool = False


ENTRIES: dict[str, WeightEntry] = {
    e.key: e
    for e in (
        WeightEntry("dino_vitb16", "dino_vitb16", "DINO ViT-B/16 (subject_consistency)", is_dir=True),
        WeightEntry("clip_vitb32", "clip_vitb32", "CLIP ViT-B/32 (background_consistency)", is_dir=True),
        WeightEntry("clip_vitl14", "clip_vitl14", "CLIP ViT-L/14 (aesthetic_quality)", is_dir=True),
        WeightEntry("laion_aesthetic", "laion_aesthetic/sa_0_4_vit_l_14_linear.pth",
                    "LAION aesthetic predictor v1 head (aesthetic_quality)"),
        WeightEntry("musiq_spaq", "musiq/musiq_spaq_ckpt-358bb6af.pth", "MUSIQ SPAQ checkpoint (imaging_quality)"),
        WeightEntry("amt_s", "amt/amt-s.pth", "AMT-S checkpoint (motion_smoothness)"),
        WeightEntry("raft_things", "raft/raft-things.pth", "RAFT raft-things checkpoint (dynamic_degree)"),
    )
}


def resolve(weights_dir: str | None, key: str) -> Path:
    """The path of weight `key` in `weights_dir`, or MissingWeightsError saying where it was looked for."""
    entry = ENTRIES[key]
    how = (f"put it at <weights_dir>/{entry.relpath} (layout in docs/metrics.md), e.g. with "
           f"`python -m uvc_bench.weights fetch --dest <weights_dir> {key}`, and set metrics.weights_dir")
    if weights_dir is None:
        raise MissingWeightsError(entry.what, [], how)
    path = Path(weights_dir) / entry.relpath
    ok = (path / "config.json").is_file() if entry.is_dir else path.is_file()
    if not ok:
        raise MissingWeightsError(entry.what, [str(path / "config.json") if entry.is_dir else str(path)], how)
    return path


# The weights each dimension's reference backend loads (provenance hashes them).
REFERENCE_WEIGHTS: dict[str, tuple[str, ...]] = {
    "subject_consistency": ("dino_vitb16",),
    "background_consistency": ("clip_vitb32",),
    "aesthetic_quality": ("clip_vitl14", "laion_aesthetic"),
    "imaging_quality": ("musiq_spaq",),
    "motion_smoothness": ("amt_s",),
    "dynamic_degree": ("raft_things",),
}


def weight_files(weights_dir: str | None, key: str) -> list[Path]:
    """The files of weight `key` present in `weights_dir` (every file of a model folder), sorted."""
    if weights_dir is None:
        return []
    path = Path(weights_dir) / ENTRIES[key].relpath
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    return [path] if path.is_file() else []
