"""The metrics API the bench harness uses: score one decoded video on VBench's dimensions, aggregate a suite.

The caller decodes a video ONCE into (T, H, W, 3) uint8 frames; every dimension reads those frames (each applies its
own preprocessing, batched by `MetricsConfig.batch_size`). Which implementation scored a dimension is recorded in
`Scorer.backends` (reference backends: the models VBench uses; offline backends: honest estimators under their own
names, never mixed with the reference ones). See docs/metrics.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from uvc_data.errors import BadInputError, ConfigError, MissingDependencyError, MissingWeightsError

VBENCH_DIMENSIONS: tuple[str, ...] = (
    "subject_consistency",
    "background_consistency",
    "aesthetic_quality",
    "imaging_quality",
    "motion_smoothness",
    "dynamic_degree",
)
BACKEND_MODES = ("reference", "offline", "auto")

# VBench's suite aggregate of a dimension = Σ value·weight / Σ weight, times this scale (imaging_quality: MUSIQ's
# 0–100 per-video scores are divided by 100 only at suite level, as VBench does).
AGGREGATE_SCALE: dict[str, float] = {"imaging_quality": 0.01}


@dataclass
class DimScore:
    """One dimension on one video."""

    value: float  # per-video raw value on VBench's scale (imaging_quality: 0–100; dynamic_degree: 0 or 1)
    weight: float = 1.0  # aggregation weight: frame pairs for the consistency dims (VBench is frame-weighted there)
    backend: str = ""  # e.g. "dino_vitb16", "clip_vitb32", "laion_v1", "musiq_spaq", "amt_s", "raft", "dis_flow_offline"


@dataclass
class MetricsConfig:
    weights_dir: str | None = None
    dimensions: list[str] = field(default_factory=lambda: list(VBENCH_DIMENSIONS))
    # dimension → "reference" | "offline" | "auto"; unset = "reference" (VBench's networks; a missing weight leaves the
    # dimension out, named in Scorer.missing). "offline" and "auto" (reference, else offline) are explicit choices.
    backend: dict[str, str] = field(default_factory=dict)
    batch_size: int = 16
    device: str = "cpu"
    # dtype of the CLIP encoders (background_consistency, aesthetic_quality): "auto" = as VBench's clip.load, float16
    # on CUDA and float32 on CPU; "float32" / "float16" force one.
    clip_dtype: str = "auto"
    # condition fidelity's re-annotators (uvc_bench.metrics.fidelity_reannotation), loaded once per Scorer:
    depth_weights: str = ""  # Depth Anything V2 transformers folder; "" = depth re-annotation skipped
    pose_backend: str = "mediapipe"  # "mediapipe" (offline, bundled in the wheel) | "dwpose" (needs dwpose_dir)
    dwpose_dir: str = ""  # folder with yolox_l.onnx and dw-ll_ucoco_384.onnx

    def validate(self) -> None:
        from uvc_bench.metrics.registry import BACKENDS

        for d in self.dimensions:
            if d not in BACKENDS:
                raise ConfigError("dimensions", f"unknown dimension {d!r}; choose from {sorted(BACKENDS)}")
        for d, mode in self.backend.items():
            if d not in BACKENDS:
                raise ConfigError(f"backend.{d}", f"unknown dimension {d!r}; choose from {sorted(BACKENDS)}")
            if mode not in BACKEND_MODES:
                raise ConfigError(f"backend.{d}", f"{mode!r} is not one of {BACKEND_MODES}")
        if self.batch_size < 1:
            raise ConfigError("batch_size", f"must be ≥ 1, got {self.batch_size}")
        if self.clip_dtype not in ("auto", "float32", "float16"):
            raise ConfigError("clip_dtype", f"{self.clip_dtype!r} is not one of ['auto', 'float32', 'float16']")
        if self.pose_backend not in ("mediapipe", "dwpose"):
            raise ConfigError("pose_backend", f"{self.pose_backend!r} is not one of ['mediapipe', 'dwpose']")


class Scorer:
    """Loads every model once; `score_video` scores one decoded video on every available dimension.

    backends: dimension → backend actually used. missing: dimension → why it cannot be scored (the error text).
    fallbacks: dimension → why `auto` used an offline backend instead of the reference one.
    """

    def __init__(self, cfg: MetricsConfig):
        from uvc_bench.metrics.fidelity_reannotation import ReannotationConfig, Reannotators
        from uvc_bench.metrics.registry import build_dimension

        cfg.validate()
        self.cfg = cfg
        # condition fidelity's depth/pose annotators: each loaded on first use, then kept for every later video
        self.reannotators = Reannotators(ReannotationConfig(cfg.depth_weights, cfg.pose_backend, cfg.dwpose_dir,
                                                            cfg.device, cfg.batch_size))
        self.backends: dict[str, str] = {}
        self.missing: dict[str, str] = {}
        self.fallbacks: dict[str, str] = {}
        self._dims = {}
        self.dtype = resolve_clip_dtype(cfg.clip_dtype, cfg.device)
        for name in cfg.dimensions:
            mode = cfg.backend.get(name, "reference")
            try:
                dim, note = build_dimension(name, mode, cfg)
            except (MissingWeightsError, MissingDependencyError) as exc:
                self.missing[name] = str(exc)
                continue
            self._dims[name] = dim
            self.backends[name] = dim.backend
            if note:
                self.fallbacks[name] = note

    def image_features(self, frames: np.ndarray) -> np.ndarray | None:
        """L2-normalised CLIP ViT-B/32 image features (N, D) of uint8 (N, H, W, 3) images, or None when the
        background-consistency CLIP is not loaded. Used by condition fidelity (reference similarity)."""
        dim = self._dims.get("background_consistency")
        encoder = getattr(dim, "encoder", None)
        return None if encoder is None else encoder(frames)

    def score_video(self, frames: np.ndarray, fps: float) -> dict[str, DimScore]:
        """frames (T, H, W, 3) uint8, decoded once by the caller and shared by all dimensions."""
        check_frames(frames)
        if not fps or fps <= 0:
            raise BadInputError(f"fps must be > 0, got {fps!r}; pass the video's frame rate")
        return {name: dim.score(frames, float(fps)) for name, dim in self._dims.items()}


def resolve_clip_dtype(name: str, device: str) -> str:
    """VBench loads CLIP with clip.load: float16 weights on CUDA, float32 on CPU."""
    if name != "auto":
        return name
    return "float16" if str(device).startswith("cuda") else "float32"


def check_frames(frames: np.ndarray) -> None:
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3:
        shape = getattr(frames, "shape", type(frames).__name__)
        raise BadInputError(f"frames must be a (T, H, W, 3) uint8 array, got {shape}")
    if frames.dtype != np.uint8:
        raise BadInputError(f"frames must be uint8 in [0, 255], got {frames.dtype}; convert with uvc_data.vcu.to_uint8")
    if frames.shape[0] < 2:
        raise BadInputError(f"a video needs at least 2 frames to be scored, got {frames.shape[0]}")


def aggregate(per_video: list[dict[str, DimScore]]) -> dict[str, float]:
    """VBench's suite aggregate per dimension: Σ value·weight / Σ weight (frame-weighted for the consistency
    dimensions, a plain mean elsewhere), times AGGREGATE_SCALE. Dimensions absent from a video are skipped."""
    sums: dict[str, list[float]] = {}
    for scores in per_video:
        for name, s in scores.items():
            acc = sums.setdefault(name, [0.0, 0.0])
            acc[0] += s.value * s.weight
            acc[1] += s.weight
    return {name: (v / w) * AGGREGATE_SCALE.get(name, 1.0) for name, (v, w) in sums.items() if w > 0}
