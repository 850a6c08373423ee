"""Export results in VBench's own `*_eval_results.json` format: {dimension: [aggregate, [{"video_path", "video_results"},
...]]} — one file per subtask (`<subtask>_eval_results.json`, '+' written as '_') and `all_eval_results.json`.
Per-video values are VBench's per-video scale (imaging_quality 0–100, dynamic_degree true/false as VBench writes it);
aggregates are VBench's suite aggregates. Any VBench tool (and `uvc bench normalize`) reads them back.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from uvc_bench.results import CaseResult, DimValue, Results


def _per_video(dim: str, cases: list[CaseResult]) -> list[dict[str, Any]]:
    out = []
    for c in cases:
        if c.status != "ok" or dim not in c.dimensions:
            continue
        v: Any = c.dimensions[dim].raw
        if dim == "dynamic_degree":
            v = bool(v >= 0.5)
        out.append({"video_path": f"{c.subtask}/{c.sample_id}.mp4", "video_results": v})
    return out


def vbench_dict(dims: dict[str, DimValue], cases: list[CaseResult]) -> dict[str, list]:
    return {d: [v.raw, _per_video(d, cases)] for d, v in sorted(dims.items())}


def export_vbench(results: Results, folder: str | Path) -> list[Path]:
    """Write the VBench files; returns their paths."""
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for subtask, t in results.tasks.items():
        cases = [c for c in results.cases if c.subtask == subtask]
        p = folder / f"{subtask.replace('+', '_')}_eval_results.json"
        p.write_text(json.dumps(vbench_dict(t.dimensions, cases), indent=1))
        written.append(p)
    p = folder / "all_eval_results.json"
    p.write_text(json.dumps(vbench_dict(results.overall.dimensions, results.cases), indent=1))
    written.append(p)
    return written
