"""Task-aware filtering from the annotators' signals (data.md): a person with keypoints for pose tasks, a subject
for reference tasks, enough motion for flow tasks, and no static clip for any task. A rule whose signal is absent
(its annotator or filter did not run) is skipped and counted in `stats["missing_<signal>"]`."""
from __future__ import annotations

from dataclasses import dataclass

from uvc_data.errors import ConfigError
from uvc_data.filters.base import FILTERS, TaskFilter
from uvc_data.sample import Sample
from uvc_data.tasks import TaskDef


@dataclass
class TaskAwareConfig:
    pose_min_person_frac: float = 0.5  # frames with a person (pose_person_frac)
    pose_min_keypoints: float = 8.0  # mean visible body keypoints (of 18) over those frames
    pose_min_height: float = 0.15  # skeleton height / frame height
    ref_min_subject_area: float = 0.02
    flow_min_motion: float = 0.002  # fraction of width per frame (flow_motion, else motion)
    min_frame_difference: float = 1.0  # every task: static clips are useless (frame_difference from the static filter)

    def validate(self) -> None:
        if not 0 <= self.pose_min_person_frac <= 1:
            raise ConfigError("pose_min_person_frac", "must be in [0, 1]")
        if not 0 <= self.pose_min_keypoints <= 18:
            raise ConfigError("pose_min_keypoints", "must be in [0, 18]")


@FILTERS.register("task_aware", TaskAwareConfig)
class TaskAwareFilter(TaskFilter):
    name = "task_aware"

    def _signal(self, sample: Sample, *names: str) -> float | None:
        for n in names:
            if n in sample.signals:
                return float(sample.signals[n])
        self.stats[f"missing_{names[0]}"] += 1
        return None

    def check_task(self, sample: Sample, task: TaskDef) -> str | None:
        c = self.config
        diff = self._signal(sample, "frame_difference")
        if diff is not None and diff < c.min_frame_difference:
            return f"static clip (frame_difference {diff:.2f} < {c.min_frame_difference})"
        if task.control == "pose":
            frac = self._signal(sample, "pose_person_frac")
            if frac is not None and frac < c.pose_min_person_frac:
                return f"person in {frac:.0%} of frames < {c.pose_min_person_frac:.0%}"
            kp = self._signal(sample, "pose_keypoints")
            if kp is not None and kp < c.pose_min_keypoints:
                return f"{kp:.1f} visible body keypoints < {c.pose_min_keypoints}"
            height = self._signal(sample, "pose_person_height")
            if height is not None and height < c.pose_min_height:
                return f"person {height:.0%} of the frame height < {c.pose_min_height:.0%}"
        if task.control == "flow":
            m = self._signal(sample, "flow_motion", "motion")
            if m is not None and m < c.flow_min_motion:
                return f"motion {m:.5f} < flow_min_motion {c.flow_min_motion}"
        if task.references:
            area = self._signal(sample, "ref_subject_area")
            if area is not None and area < c.ref_min_subject_area:
                return f"subject area {area:.3f} < ref_min_subject_area {c.ref_min_subject_area}"
        return None
