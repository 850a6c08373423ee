"""The one place the leaderboard reads the results schema (uvc_bench.results): a results dict → an `Entry`.

`validate_results` rejects an invalid file (with every problem named) before anything is read from it.
"""
from __future__ import annotations

import json
from typing import Any

from leaderboard.model import CaseRef, DimValue, Entry, TaskView


def _dims(dims: dict[str, Any]) -> dict[str, DimValue]:
    return {d: DimValue(raw=v.raw, normalized=v.normalized, backend=v.backend) for d, v in dims.items()}


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _settings(res: Any) -> dict[str, Any]:
    """Steps, guidance, shift, seed, size and frames, then the model's own settings (the latter never override)."""
    m, g = res.model, res.generation
    out: dict[str, Any] = {"steps": m.steps, "guidance": m.guidance, "shift": m.shift, "seed": g.seed,
                           "size": f"{g.width}x{g.height}", "frames": g.num_frames, "fps": g.fps}
    for k in sorted(m.settings):
        out.setdefault(k, _text(m.settings[k]))
    return out


def _details(res: Any, source: str) -> dict[str, dict[str, str]]:
    m, g, s, mt, t = res.model, res.generation, res.suite, res.metrics, res.timings
    metrics = {"NA convention": mt.na_convention, "overall NA": mt.na_overall,
               "dimensions": ", ".join(mt.dimensions),
               "NA covers": f"{res.overall.na_num_dimensions} of {len(mt.dimensions)} dimensions: " +
                            (", ".join(f"{d}={b}" for d, b in res.overall.na_backends.items()) or "none")}
    metrics.update({f"backend: {d}": b for d, b in sorted(mt.backends.items())})
    metrics.update({f"missing: {d}": why for d, why in sorted(mt.missing.items())})
    metrics.update({f"fallback: {d}": why for d, why in sorted(mt.fallbacks.items())})
    return {
        "Sampling": {"steps (NFE)": _text(m.steps), "guidance": _text(m.guidance), "shift": _text(m.shift)},
        "Model settings": {k: _text(v) for k, v in sorted(m.settings.items())},
        "Generation": {"seed": _text(g.seed),
                       "size (W×H)": f"{g.width}×{g.height}" if g.height else "per case (official reading)",
                       "frames": _text(g.num_frames) if g.num_frames else "per case (official reading)",
                       "fps": _text(g.fps), "case reading": g.case_reading, "preset": _text(m.preset)},
        "Suite": {"hash": s.hash, "root": s.root, "cases": _text(s.num_cases),
                  "scored": f"{res.overall.num_scored} of {res.overall.num_cases}"},
        "Metrics": metrics,
        "Timings": {"seconds per video": _text(t.seconds_per_video), "generation seconds": _text(t.generation_seconds),
                    "timed videos": _text(t.timed_videos), "scoring seconds": _text(t.scoring_seconds)},
        "Provenance": _provenance(res, source),
    }


def _provenance(res: Any, source: str) -> dict[str, str]:
    """Where the numbers come from (results.provenance), the case reading and the scored videos' SHA-256."""
    from leaderboard.provenance_view import provenance_rows

    return provenance_rows(res, source)


def _task_key(subtask: str, task: str, all_tasks: list[str]) -> str:
    """The canonical task name, unless two subtasks of this file share it (then the file's own spelling)."""
    return task if all_tasks.count(task) == 1 else subtask


def entry_from_dict(data: Any, source: str) -> Entry:
    """Validate a results dict (BadInputError naming every problem) and build the leaderboard's view of it."""
    from uvc_bench.results import results_from_dict

    res = results_from_dict(data)  # runs validate_results first
    names = [t.task for t in res.tasks.values()]
    tasks = {}
    for sub in sorted(res.tasks):
        t = res.tasks[sub]
        key = _task_key(sub, t.task, names)
        tasks[key] = TaskView(task=key, na=t.na, na_dimensions=tuple(t.na_dimensions), dimensions=_dims(t.dimensions),
                              fidelity=dict(t.fidelity), num_cases=t.num_cases, num_scored=t.num_scored)
    return Entry(model=res.model.name, settings=_settings(res), nfe=res.model.steps,
                 seconds_per_video=res.timings.seconds_per_video, na=res.overall.na,
                 na_convention=res.metrics.na_convention, na_dimensions=tuple(res.overall.na_dimensions),
                 dimensions=_dims(res.overall.dimensions), tasks=tasks, source=source, suite=res.suite.hash,
                 details=_details(res, source), suite_root=res.suite.root,
                 case_reading=res.generation.case_reading,
                 cases=tuple(CaseRef(c.case_id, c.subtask, c.sample_id, _task_key(c.subtask, c.task, names), c.status)
                             for c in res.cases))
