"""VBench's normalised scores and the Normalized Average (NA) that VACE and VDOT report (uvcbench.md, "Normalised scores").

norm_d = (x_d − min_d) / (max_d − min_d), not clipped; NA = 100 · Σ_d w_d · norm_d / D, where D = Σ_d w_d ("vbench",
the default: VBench's own `cal_final_score` and VDOT's six-dimension UVCBench table, 5.5 for the six) or D = n ("vace":
VACE's 8-dimension table, which it reproduces; with six dimensions it caps the NA at 91.7).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

from uvc_data.errors import BadInputError, ConfigError

VBENCH_MIN_MAX: dict[str, tuple[float, float]] = {
    "subject_consistency": (0.1462, 1.0),
    "background_consistency": (0.2615, 1.0),
    "motion_smoothness": (0.706, 0.9975),
    "dynamic_degree": (0.0, 1.0),
    "aesthetic_quality": (0.0, 1.0),
    "imaging_quality": (0.0, 1.0),
    "temporal_flickering": (0.6293, 1.0),
    "overall_consistency": (0.0, 0.364),
}
DIM_WEIGHTS: dict[str, float] = {d: (0.5 if d == "dynamic_degree" else 1.0) for d in VBENCH_MIN_MAX}
CONVENTIONS = ("vbench", "vace")
DEFAULT_CONVENTION = "vbench"


def _check_known(values: Mapping[str, float]) -> None:
    unknown = sorted(set(values) - set(VBENCH_MIN_MAX))
    if unknown:
        raise BadInputError(f"no VBench normalisation constants for {unknown}; known: {sorted(VBENCH_MIN_MAX)}")
    if not values:
        raise BadInputError("no dimension values to normalise")


def norm_d(x: float, dim: str) -> float:
    """norm_d = (x_d − min_d) / (max_d − min_d), not clipped (VBench's scaled score)."""
    lo, hi = VBENCH_MIN_MAX[dim]
    return (float(x) - lo) / (hi - lo)


def normalize(values: Mapping[str, float]) -> dict[str, float]:
    """Normalise raw dimension values (VBench scale: fractions, not %) to VBench's min–max scale."""
    _check_known(values)
    return {d: norm_d(x, d) for d, x in values.items()}


def normalized_average(values: Mapping[str, float], convention: str = DEFAULT_CONVENTION) -> float:
    """NA in % over the dimensions given. "vbench" (default): Σ w_d·norm_d / Σ w_d; "vace": Σ w_d·norm_d / n."""
    if convention not in CONVENTIONS:
        raise ConfigError("convention", f"{convention!r} is not one of {CONVENTIONS}")
    normed = normalize(values)
    weighted = sum(DIM_WEIGHTS[d] * v for d, v in normed.items())
    denom = len(normed) if convention == "vace" else sum(DIM_WEIGHTS[d] for d in normed)
    return 100.0 * weighted / denom


def load_vbench_results(path: str | Path) -> dict[str, float]:
    """Read a VBench `*_eval_results.json` ({dim: [aggregate, per_video_list]}) or a flat {dim: value} file."""
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise BadInputError(f"VBench results file {p} does not exist; give the path of *_eval_results.json") from None
    except json.JSONDecodeError as exc:
        raise BadInputError(f"{p} is not JSON ({exc}); give a VBench *_eval_results.json or a {{dim: value}} file") from exc
    if not isinstance(data, dict):
        raise BadInputError(f"{p}: expected a JSON object of dimensions, got {type(data).__name__}")
    out: dict[str, float] = {}
    for dim, v in data.items():
        if isinstance(v, list) and v and isinstance(v[0], (int, float)) and not isinstance(v[0], bool):
            out[dim] = float(v[0])
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[dim] = float(v)
        else:
            raise BadInputError(f"{p}: dimension {dim!r} holds {str(v)[:80]!r}; expected [aggregate, per_video] or a number")
    return out


def normalize_report(values: Mapping[str, float], convention: str = DEFAULT_CONVENTION) -> dict:
    """JSON-ready record: raw and normalised values, NA (%), the convention and the dimensions used."""
    dims = sorted(values)
    return {
        "raw": {d: float(values[d]) for d in dims},
        "normalized": {d: v for d, v in sorted(normalize(values).items())},
        "normalized_average": normalized_average(values, convention),
        "convention": convention,
        "dimensions": dims,
        "weights": {d: DIM_WEIGHTS[d] for d in dims},
    }
