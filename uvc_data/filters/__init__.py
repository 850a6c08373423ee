"""Stage 6 of the dataset builder: clip filters and task-aware filters (docs/annotators.md).

Build them by name: `build_filter("blur", {"min_sharpness": 50})`. Filters only ever remove tasks and say why.
"""
from __future__ import annotations

from typing import Any, Mapping

from uvc_data.filters import aesthetic, basic, llm_judge, motion, task_aware  # noqa: F401  (register)
from uvc_data.filters.aesthetic import AestheticConfig, AestheticFilter
from uvc_data.filters.base import FILTERS, Filter, TaskFilter
from uvc_data.filters.basic import (BlurConfig, BlurFilter, DurationConfig, DurationFilter, ResolutionConfig,
                                    ResolutionFilter, StaticConfig, StaticFilter, frame_difference, laplacian_variance)
from uvc_data.filters.llm_judge import LLMJudgeConfig, LLMJudgeFilter, parse_yes_no
from uvc_data.filters.motion import MotionConfig, MotionFilter, estimate_motion
from uvc_data.filters.task_aware import TaskAwareConfig, TaskAwareFilter

# Cheap clip filters that run before the annotators (order: cheapest first), and the task-aware one after them.
# No motion filter by default: a fixed-camera scene with people or traffic passing through has a mean flow well
# below any clip-level threshold that rejects static footage (0.0003–0.0009 of the width per frame on real footage)
# and is good data for most tasks; `static` rejects frozen clips, and the motion a task needs is that task's own check
# (task_aware: flow_min_motion for flow tasks). Add "motion" to clip_filters for a clip-level motion floor.
DEFAULT_CLIP_FILTERS = ("duration", "resolution", "static", "blur")
DEFAULT_TASK_FILTERS = ("task_aware",)


def build_filter(name: str, options: Mapping[str, Any] | Any | None = None) -> Filter:
    return FILTERS.build(name, options)


__all__ = [
    "AestheticConfig", "AestheticFilter", "BlurConfig", "BlurFilter", "DEFAULT_CLIP_FILTERS", "DEFAULT_TASK_FILTERS",
    "DurationConfig", "DurationFilter", "FILTERS", "Filter", "LLMJudgeConfig", "LLMJudgeFilter", "MotionConfig",
    "MotionFilter", "ResolutionConfig", "ResolutionFilter", "StaticConfig", "StaticFilter", "TaskAwareConfig",
    "TaskAwareFilter", "TaskFilter", "build_filter", "estimate_motion", "frame_difference", "laplacian_variance",
    "parse_yes_no",
]
