"""`validate_results(data)`: reject an invalid results file with a message naming every problem (leaderboard intake).

Structure is checked against the dataclasses of uvc_bench.results (one definition, no second schema to keep in
sync): every field present, no unknown fields, every value of the declared type, numbers finite. Then the meaning:
a supported schema_version (schema 1 files are upgraded first, uvc_bench.results.upgrade_v1), known case statuses and
NA convention, every dimension value scored by the backend the file declares for that dimension (numbers from
different backends are never mixed), normalised values and NAs that recompute from the raw values, each NA entry's
na_backends / na_num_dimensions matching the dimensions it averages, and the overall NA equal to the mean of the
task NAs.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any

from uvc_data.errors import BadInputError
from uvc_bench.results import CASE_STATUSES, SUPPORTED_VERSIONS, Results, upgrade_v1

TOLERANCE = 1e-6


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _check(value: Any, tp: Any, path: str, errors: list[str]) -> None:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return
        inner = [a for a in args if a is not type(None)]
        trial: list[str] = []
        _check(value, inner[0], path, trial)
        errors.extend(trial)
        return
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            errors.append(f"{path}: expected an object ({tp.__name__}), got {type(value).__name__}")
            return
        hints = typing.get_type_hints(tp)
        names = [f.name for f in dataclasses.fields(tp)]
        for n in names:
            if n not in value:
                errors.append(f"{path}.{n}: missing")
            else:
                _check(value[n], hints[n], f"{path}.{n}", errors)
        for k in value:
            if k not in names:
                errors.append(f"{path}.{k}: unknown field (known: {', '.join(names)})")
        return
    if origin is list:
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for i, v in enumerate(value):
            _check(v, args[0], f"{path}[{i}]", errors)
        return
    if origin is dict:
        if not isinstance(value, dict):
            errors.append(f"{path}: expected an object, got {type(value).__name__}")
            return
        for k, v in value.items():
            _check(v, args[1], f"{path}.{k}", errors)
        return
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"{path}: expected a number, got {value!r}")
        elif not math.isfinite(value):
            errors.append(f"{path}: {value} is not a finite number")
        return
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{path}: expected an integer, got {value!r}")
        return
    if tp is str and not isinstance(value, str):
        errors.append(f"{path}: expected a string, got {value!r}")
    elif tp is bool and not isinstance(value, bool):
        errors.append(f"{path}: expected true/false, got {value!r}")


def _is_sha256(value: str) -> bool:
    return len(value) == 64 and all(ch in "0123456789abcdef" for ch in value)


def _check_dims(dims: dict[str, Any], path: str, backends: dict[str, str], per_video: bool, errors: list[str]) -> None:
    from uvc_bench.metrics.api import AGGREGATE_SCALE
    from uvc_bench.normalize import VBENCH_MIN_MAX, norm_d

    for d, v in dims.items():
        if d not in backends:
            errors.append(f"{path}.{d}: dimension not declared in metrics.backends")
            continue
        if v["backend"] != backends[d]:
            errors.append(f"{path}.{d}: scored by backend {v['backend']!r} but the file declares {backends[d]!r}; "
                          "numbers from different backends cannot be mixed — rescore with one backend")
        if d in VBENCH_MIN_MAX:
            scale = AGGREGATE_SCALE.get(d, 1.0) if per_video else 1.0
            want = norm_d(v["raw"] * scale, d)
            if abs(want - v["normalized"]) > TOLERANCE:
                errors.append(f"{path}.{d}.normalized: {v['normalized']} does not match raw {v['raw']} (expected "
                              f"{want:.6f})")


def _check_cover(node: dict[str, Any], path: str, errors: list[str]) -> None:
    """An NA entry's na_num_dimensions and na_backends describe the dimensions it averages."""
    used = [d for d in node["na_dimensions"] if d in node["dimensions"]]
    if node["na_num_dimensions"] != len(node["na_dimensions"]):
        errors.append(f"{path}.na_num_dimensions: {node['na_num_dimensions']} but na_dimensions lists "
                      f"{len(node['na_dimensions'])}")
    want = {d: node["dimensions"][d]["backend"] for d in used}
    if node["na_backends"] != want:
        errors.append(f"{path}.na_backends: {node['na_backends']} is not the backends of its dimensions {want}")


def _check_na(node: dict[str, Any], path: str, convention: str, errors: list[str]) -> None:
    from uvc_bench.normalize import normalized_average

    if node["na"] is None:
        return
    used = node["na_dimensions"]
    missing = [d for d in used if d not in node["dimensions"]]
    if missing or not used:
        errors.append(f"{path}.na_dimensions: {used} names dimensions without values {missing}")
        return
    want = normalized_average({d: node["dimensions"][d]["raw"] for d in used}, convention)
    if abs(want - node["na"]) > 1e-4:
        errors.append(f"{path}.na: {node['na']} does not match its dimensions ({want:.4f} under the "
                      f"{convention!r} convention)")


def validate_results(data: Any) -> None:
    """Raise BadInputError listing every problem of a results dict; return None when it is valid."""
    errors: list[str] = []
    if not isinstance(data, dict):
        raise BadInputError(f"a results file holds a JSON object, got {type(data).__name__}")
    data = upgrade_v1(data)
    version = data.get("schema_version")
    if version not in SUPPORTED_VERSIONS:
        raise BadInputError(f"results schema_version {version!r} is not supported (supported: "
                            f"{list(SUPPORTED_VERSIONS)}); rescore with this toolkit's `uvc bench score`")
    _check(data, Results, "results", errors)
    if errors:
        raise BadInputError("invalid results file:\n  " + "\n  ".join(errors[:30]))
    for i, c in enumerate(data["cases"]):
        if c["video"] is not None and not _is_sha256(c["video"]["sha256"]):
            errors.append(f"results.cases[{i}].video.sha256: {c['video']['sha256']!r} is not a SHA-256 (64 hex digits)")
    for f, digest in data["provenance"]["weights"].items():
        if not _is_sha256(digest):
            errors.append(f"results.provenance.weights.{f}: {digest!r} is not a SHA-256 (64 hex digits)")
    m = data["metrics"]
    if m["na_convention"] not in ("vace", "vbench"):
        errors.append(f"results.metrics.na_convention: {m['na_convention']!r} is not 'vace' or 'vbench'")
    backends = m["backends"]
    for i, c in enumerate(data["cases"]):
        if c["status"] not in CASE_STATUSES:
            errors.append(f"results.cases[{i}].status: {c['status']!r} is not one of {list(CASE_STATUSES)}")
        _check_dims(c["dimensions"], f"results.cases[{i}].dimensions", backends, True, errors)
    for k, t in data["tasks"].items():
        _check_dims(t["dimensions"], f"results.tasks.{k}.dimensions", backends, False, errors)
        if m["na_convention"] in ("vace", "vbench"):
            _check_na(t, f"results.tasks.{k}", m["na_convention"], errors)
        _check_cover(t, f"results.tasks.{k}", errors)
    _check_dims(data["overall"]["dimensions"], "results.overall.dimensions", backends, False, errors)
    _check_cover(data["overall"], "results.overall", errors)
    task_nas = [t["na"] for t in data["tasks"].values() if t["na"] is not None]
    overall = data["overall"]["na"]
    if overall is not None and (not task_nas or abs(sum(task_nas) / len(task_nas) - overall) > 1e-4):
        errors.append(f"results.overall.na: {overall} is not the mean of the task NAs {task_nas}")
    if errors:
        raise BadInputError("invalid results file:\n  " + "\n  ".join(errors[:30]))
