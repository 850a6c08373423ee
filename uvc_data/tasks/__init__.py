"""The task registry shared by the dataset builder, the trainer and UVCBench.

Every task is a short declarative definition in `definitions.py`; adding or renaming a task is a change to that file.
"""
from uvc_data.tasks.registry import (
    CONTROL_CONDITIONS,
    Family,
    TaskDef,
    all_tasks,
    bench_tasks,
    get_task,
    register,
    route_official_subtask,
)
from uvc_data.tasks import definitions as _definitions  # noqa: F401  (registers the tasks)

__all__ = [
    "CONTROL_CONDITIONS",
    "Family",
    "TaskDef",
    "all_tasks",
    "bench_tasks",
    "get_task",
    "register",
    "route_official_subtask",
]
