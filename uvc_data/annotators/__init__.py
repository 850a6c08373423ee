"""Stage 5 of the dataset builder: per-task condition annotators (docs/annotators.md).

Each annotator adds one `Sample.conditions` key for the tasks that need it and only ever removes tasks
(see base.py for the contract). Build them by name: `build_annotator("flow", {"backend": "raft", ...})`.
"""
from __future__ import annotations

from typing import Any, Mapping

from uvc_data.annotators import depth, flow, gray, masks, pose, references, scribble  # noqa: F401  (register)
from uvc_data.annotators.base import Annotator, AnnotatorConfig, NothingToAnnotate, needs_condition
from uvc_data.annotators.depth import DepthAnnotator, DepthConfig
from uvc_data.annotators.flow import FlowAnnotator, FlowConfig, dis_flow
from uvc_data.annotators.flow_color import flow_from_color, flow_to_color, make_colorwheel, motion_magnitude
from uvc_data.annotators.gray import GrayAnnotator, GrayConfig
from uvc_data.annotators.masks import InpaintAnnotator, InpaintConfig, OutpaintAnnotator, OutpaintConfig
from uvc_data.annotators.pose import PoseAnnotator, PoseConfig
from uvc_data.annotators.references import ReferenceAnnotator, ReferenceConfig
from uvc_data.annotators.registry import ANNOTATORS, Registry
from uvc_data.annotators.scribble import ScribbleAnnotator, ScribbleConfig
from uvc_data.annotators.segment import SegmentConfig

# The offline set, in run order: every condition of the task registry; depth reports itself unavailable without weights.
DEFAULT_ANNOTATORS = ("gray", "scribble", "flow", "pose", "depth", "outpaint", "inpaint", "reference")


def build_annotator(name: str, options: Mapping[str, Any] | Any | None = None) -> Annotator:
    """An annotator by registry name, from a dict of config options or its config object."""
    return ANNOTATORS.build(name, options)


def build_annotators(options: Mapping[str, Mapping[str, Any]] | None = None,
                     names: tuple[str, ...] | list[str] = DEFAULT_ANNOTATORS) -> list[Annotator]:
    """The annotators `names`, each configured from `options[name]` (a table per annotator)."""
    options = dict(options or {})
    unknown = [k for k in options if k not in names]
    if unknown:
        from uvc_data.errors import ConfigError

        raise ConfigError(unknown[0], f"options given for annotator {unknown[0]!r}, which is not in {list(names)}")
    return [build_annotator(n, options.get(n)) for n in names]


__all__ = [
    "ANNOTATORS", "Annotator", "AnnotatorConfig", "DEFAULT_ANNOTATORS", "DepthAnnotator", "DepthConfig",
    "FlowAnnotator", "FlowConfig", "GrayAnnotator", "GrayConfig", "InpaintAnnotator", "InpaintConfig",
    "NothingToAnnotate", "OutpaintAnnotator", "OutpaintConfig", "PoseAnnotator", "PoseConfig", "ReferenceAnnotator",
    "ReferenceConfig", "Registry", "ScribbleAnnotator", "ScribbleConfig", "SegmentConfig", "build_annotator",
    "build_annotators", "dis_flow", "flow_from_color", "flow_to_color", "make_colorwheel", "motion_magnitude",
    "needs_condition",
]
