import json

import pytest

from uvc_bench.normalize import (
    DIM_WEIGHTS,
    load_vbench_results,
    normalize,
    normalize_report,
    normalized_average,
)
from uvc_data.errors import BadInputError, ConfigError

ORDER = ["aesthetic_quality", "background_consistency", "dynamic_degree", "imaging_quality", "motion_smoothness",
         "overall_consistency", "subject_consistency", "temporal_flickering"]
VACE_DEPTH = [56.72, 96.12, 60.00, 66.41, 98.84, 25.27, 94.09, 97.27]
T2VZERO_POSE = [57.63, 87.67, 100.00, 70.74, 79.65, 23.94, 84.82, 76.57]


def _row(pcts):
    return {d: p / 100 for d, p in zip(ORDER, pcts)}


@pytest.mark.parametrize("row,na", [(VACE_DEPTH, 74.99), (T2VZERO_POSE, 59.69)])
def test_published_rows(row, na):
    assert normalized_average(_row(row), "vace") == pytest.approx(na, abs=0.007)  # VACE's table: ÷ n


def test_default_is_vbench_convention_and_six_dimension_ceiling():
    best = {d: 1.0 for d in ("subject_consistency", "background_consistency", "aesthetic_quality", "imaging_quality",
                             "dynamic_degree")}
    best["motion_smoothness"] = 0.9975
    assert normalized_average(best) == pytest.approx(100.0)  # ÷ Σw = 5.5: a perfect run scores 100
    assert normalized_average(best, "vace") == pytest.approx(100 * 5.5 / 6)  # ÷ 6 cannot exceed 91.7
    assert normalize_report(best)["convention"] == "vbench"


def test_vbench_convention_divides_by_weight_sum():
    vals = _row(VACE_DEPTH)
    vace, vb = normalized_average(vals, "vace"), normalized_average(vals, "vbench")
    assert vb == pytest.approx(vace * 8 / 7.5)
    assert vb != pytest.approx(74.99, abs=0.05)


def test_normalize_not_clipped_and_weights():
    n = normalize({"motion_smoothness": 0.5, "subject_consistency": 1.0})
    assert n["motion_smoothness"] < 0 and n["subject_consistency"] == pytest.approx(1.0)
    assert DIM_WEIGHTS["dynamic_degree"] == 0.5 and DIM_WEIGHTS["imaging_quality"] == 1.0


def test_six_dimensions_by_hand():
    vals = {"subject_consistency": 0.95, "background_consistency": 0.96, "aesthetic_quality": 0.6,
            "imaging_quality": 0.65, "motion_smoothness": 0.98, "dynamic_degree": 0.4}
    by_hand = ((0.95 - 0.1462) / 0.8538 + (0.96 - 0.2615) / 0.7385 + 0.6 + 0.65 + (0.98 - 0.706) / 0.2915 + 0.5 * 0.4)
    assert normalized_average(vals, "vace") == pytest.approx(100 * by_hand / 6)
    assert normalized_average(vals) == pytest.approx(100 * by_hand / 5.5)


def test_bad_input():
    with pytest.raises(BadInputError, match="no VBench normalisation"):
        normalize({"nonsense": 1.0})
    with pytest.raises(ConfigError, match="convention"):
        normalized_average({"dynamic_degree": 1.0}, "mean")
    with pytest.raises(BadInputError):
        normalized_average({})


def test_load_vbench_results_both_formats(tmp_path):
    p = tmp_path / "x_eval_results.json"
    p.write_text(json.dumps({"subject_consistency": [0.9409, [{"video_path": "a.mp4", "video_results": 0.94}]],
                             "dynamic_degree": [0.6, []]}))
    assert load_vbench_results(p) == {"subject_consistency": 0.9409, "dynamic_degree": 0.6}
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"aesthetic_quality": 0.5672}))
    assert load_vbench_results(flat) == {"aesthetic_quality": 0.5672}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"aesthetic_quality": "high"}))
    with pytest.raises(BadInputError, match="aesthetic_quality"):
        load_vbench_results(bad)
    with pytest.raises(BadInputError, match="does not exist"):
        load_vbench_results(tmp_path / "none.json")


def test_report_is_json_ready():
    rep = normalize_report(_row(VACE_DEPTH), "vace")
    json.dumps(rep)
    assert rep["convention"] == "vace" and len(rep["dimensions"]) == 8
    assert rep["normalized_average"] == pytest.approx(74.99, abs=0.007)
