"""`uvc bench run` with all six VBench dimensions on their reference backends — DINO, CLIP, LAION head, MUSIQ, AMT-S,
RAFT — loaded through the real loading code from random weights in the official checkpoint formats, on a suite built
from our shards, at a size the flow networks accept (≥ 128 px)."""
import json
import math

from tests.fixtures.synthetic import write_synthetic_shards
from uvc_bench.results_validate import validate_results
from uvc_cli.main import main

REFERENCE = {"subject_consistency": "dino_vitb16", "background_consistency": "clip_vitb32",
             "aesthetic_quality": "laion_v1", "imaging_quality": "musiq_spaq", "motion_smoothness": "amt_s",
             "dynamic_degree": "raft"}


def test_run_scores_every_dimension_with_its_reference_backend(reference_weights, tmp_path, capsys):
    write_synthetic_shards(tmp_path / "shards", n=2)
    assert main(["bench", "build-suite", "--shards", str(tmp_path / "shards"), "--out", str(tmp_path / "suite"),
                 "--per-task", "1", "--tasks", "depth,outpainting"]) == 0
    out = tmp_path / "out"
    rc = main(["bench", "run", "--suite", str(tmp_path / "suite"), "--out", str(out), "--model", "baseline",
               "--height", "128", "--width", "160", "--weights-dir", str(reference_weights), "--backend", "reference",
               "--vbench-export", str(tmp_path / "vb"), "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    data = json.loads((out / "results.json").read_text())
    validate_results(data)
    assert data["metrics"]["backends"] == REFERENCE
    assert data["metrics"]["missing"] == {} and data["metrics"]["fallbacks"] == {}
    assert len(data["cases"]) == 2 and all(c["status"] == "ok" for c in data["cases"])
    for case in data["cases"]:
        assert set(case["dimensions"]) == set(REFERENCE)
        for dim, v in case["dimensions"].items():
            assert v["backend"] == REFERENCE[dim] and math.isfinite(v["raw"]), (dim, v)
        assert case["dimensions"]["dynamic_degree"]["raw"] in (0.0, 1.0)
        assert 0.0 <= case["dimensions"]["motion_smoothness"]["raw"] <= 1.0
    exported = json.loads((tmp_path / "vb" / "depth_eval_results.json").read_text())
    assert set(exported) == set(REFERENCE)
    assert math.isfinite(data["tasks"]["depth"]["na"])
