"""The step that says which tasks a clip should serve; annotators and filters then only ever remove tasks."""
from __future__ import annotations

from uvc_data.sample import Sample
from uvc_data.steps.base import SampleStep
from uvc_data.tasks import get_task


class AssignTasks(SampleStep):
    name = "assign_tasks"

    def __init__(self, tasks: list[str]):
        super().__init__()
        self.tasks = [get_task(t).name for t in tasks]  # canonical names; unknown → "did you mean"

    def process(self, sample: Sample) -> Sample:
        sample.tasks = list(self.tasks)
        return sample
