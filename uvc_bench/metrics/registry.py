"""Which implementations exist per dimension, and how `auto` picks one (reference when it loads, else offline)."""
from __future__ import annotations

from typing import Callable, Protocol

import numpy as np

from uvc_data.errors import MissingDependencyError, MissingWeightsError


class Dimension(Protocol):
    backend: str

    def score(self, frames: np.ndarray, fps: float): ...


Builder = Callable[["object"], Dimension]  # MetricsConfig → Dimension (raises MissingWeights/MissingDependency)


def _ref(module: str, cls: str) -> Builder:
    def build(cfg):
        import importlib

        return getattr(importlib.import_module(f"uvc_bench.metrics.dims.{module}"), cls).from_config(cfg)

    return build


BACKENDS: dict[str, dict[str, Builder]] = {
    "subject_consistency": {"reference": _ref("consistency", "SubjectConsistency")},
    "background_consistency": {"reference": _ref("consistency", "BackgroundConsistency")},
    "aesthetic_quality": {"reference": _ref("aesthetic", "AestheticQuality")},
    "imaging_quality": {"reference": _ref("imaging", "ImagingQuality")},
    "motion_smoothness": {"reference": _ref("motion", "AMTMotionSmoothness"),
                          "offline": _ref("motion", "FlowInterpMotionSmoothness")},
    "dynamic_degree": {"reference": _ref("dynamic", "RAFTDynamicDegree"),
                       "offline": _ref("dynamic", "DISDynamicDegree")},
}


def build_dimension(name: str, mode: str, cfg) -> tuple[Dimension, str]:
    """Build dimension `name` in `mode`; returns (dimension, note). `auto` falls back to offline (note says why)."""
    options = BACKENDS[name]
    if mode == "offline":
        if "offline" not in options:
            raise MissingWeightsError(
                f"{name} (backend 'offline')", [],
                f"no honest offline estimator exists for {name}; set backend.{name} to 'reference' and provide its weights",
            )
        return options["offline"](cfg), ""
    try:
        return options["reference"](cfg), ""
    except (MissingWeightsError, MissingDependencyError) as exc:
        if mode == "auto" and "offline" in options:
            return options["offline"](cfg), f"reference backend unavailable, used offline: {exc}"
        raise
