"""Which verdicts a stage made, so that re-running it judges again instead of piling new verdicts on old ones.

A re-run stage first takes back its own earlier verdicts — recognised by the reasons its steps write — then runs:
  caption   "caption …" (the captioner's clip rejections) and "llm_judge: …" / "llm_judge unavailable: …"
  annotator for each condition it makes again: "condition <c> unavailable: …", "no <c>: …" and "error: …" on a
            task that needs <c> (uvc_data.annotators.base)
  filters   "<name>: …" / "<name> unavailable: …" for every task filter of the build's config or of this one
            (uvc_data.filters.base)
A task taken back is alive again only when every condition it needs is in the shard or made again by this stage
(so a judge that now accepts a task whose conditions were never made keeps the earlier verdict). Tasks come back in
the build's task order.
"""
from __future__ import annotations

from typing import Callable, Iterable

from uvc_data.tasks import get_task

Owned = Callable[[str, str], bool]  # (task or "clip", reason) → whether the re-run stage made this verdict


def caption_owns(task: str, reason: str) -> bool:
    return reason.startswith(("caption ", "caption:", "llm_judge:", "llm_judge unavailable"))


def annotator_owns(conditions: Iterable[str]) -> Owned:
    conds = tuple(conditions)

    def owns(task: str, reason: str) -> bool:
        if task == "clip":
            return False
        needs = get_task(task).needs
        return any(c in needs and (reason.startswith((f"condition {c} unavailable", f"no {c}:"))
                                   or reason.startswith("error:")) for c in conds)
    return owns


def filters_own(names: Iterable[str]) -> Owned:
    prefixes = tuple(p for n in names for p in (f"{n}:", f"{n} unavailable"))

    def owns(task: str, reason: str) -> bool:
        return reason.startswith(prefixes)
    return owns


def take_back(tasks: list[str], rejected: dict[str, str], owns: Owned, order: list[str],
              available: set[str]) -> tuple[list[str], dict[str, str]]:
    """(tasks, rejected) with the verdicts `owns` recognises taken back. A task comes back only when each
    condition it needs is in `available`; the clip-level verdict goes with its tasks."""
    kept: dict[str, str] = {}
    back: list[str] = []
    for task, reason in rejected.items():
        if task != "clip" and owns(task, reason) and all(n in available for n in get_task(task).needs):
            back.append(task)
        elif task != "clip":
            kept[task] = reason
    clip = rejected.get("clip")
    if clip is not None and not owns("clip", clip):
        kept["clip"] = clip
        back = []  # still rejected as a whole by a verdict this stage did not make
    rank = {t: i for i, t in enumerate(order)}
    alive = sorted({*tasks, *back}, key=lambda t: (rank.get(t, len(rank)), t))
    if clip is not None and "clip" not in kept:
        # the clip verdict set each then-alive task's reason to its own (setdefault): those tasks were taken back
        # above unless a condition they need is missing; with no task left the clip stays rejected
        if not alive:
            kept["clip"] = clip
    return alive, kept
